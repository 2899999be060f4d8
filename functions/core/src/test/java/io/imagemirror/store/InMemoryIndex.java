package io.imagemirror.store;

import io.imagemirror.oci.Digest;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The index ports in memory, for unit tests of code above them. Passes {@link MetadataStoreContract},
 * so it keeps the same reference counts, dangling times, blob references, history order, page
 * tokens and conditional outcomes as the real adapters. Thread-safe (one lock).
 */
public final class InMemoryIndex implements TagIndex, ManifestIndex, BlobIndex, PinIndex, JobStore, RuleStore {

    /** A storage of in-memory blob stores and one in-memory index. */
    public static Storage storage(Clock clock) {
        return Storage.of(new InMemoryBlobStore(), new InMemoryBlobStore(), new InMemoryIndex(clock), List.of());
    }


    private static final class ManifestEntry {
        ManifestRecord record;
        ManifestReferences.Counts counts = ManifestReferences.Counts.NONE;
        Instant danglingSince;

        boolean dangling() {
            return counts.dangling();
        }
    }

    private final Clock clock;
    private final Map<String, NavigableMap<Digest, ManifestEntry>> manifests = new HashMap<>();
    private final NavigableMap<String, Boolean> repositories = new TreeMap<>();
    private final Map<String, NavigableMap<String, TagRecord>> tags = new HashMap<>();
    private final Map<String, List<TagEvent>> history = new HashMap<>();
    private final Map<String, NavigableMap<Digest, Pin>> pins = new HashMap<>();
    private final Map<Digest, BlobRecord> blobs = new HashMap<>();
    /** Blobs being swept (their record kept, not live) and tombstones of finished sweeps. */
    private final NavigableMap<Digest, BlobRecord> sweeping = new TreeMap<>();
    private final java.util.Set<Digest> tombstones = new java.util.HashSet<>();
    /** Sweep candidates and when they were marked. */
    private final Map<Digest, Instant> candidates = new HashMap<>();
    private final Map<String, Job> jobs = new HashMap<>();
    private final NavigableMap<String, SyncRule> rules = new TreeMap<>();
    private final Map<String, RuleState> ruleStates = new HashMap<>();
    private final Map<String, NavigableMap<String, SyncRunRecord>> runs = new HashMap<>();
    /** blob -> "repo\0manifest" of the recorded manifests that list it. */
    private final Map<Digest, NavigableMap<String, BlobReference>> blobRefs = new HashMap<>();

    public InMemoryIndex() {
        this(Clock.systemUTC());
    }

    public InMemoryIndex(Clock clock) {
        this.clock = clock;
    }

    private Instant now() {
        return Timestamps.truncate(clock.instant());
    }

    // ---- manifests ----

    @Override
    public synchronized boolean putManifest(ManifestRecord record) {
        NavigableMap<Digest, ManifestEntry> repo = manifests.computeIfAbsent(record.repository(), r -> new TreeMap<>());
        if (repo.containsKey(record.digest())) {
            return false;
        }
        for (Digest b : record.blobDigests()) {
            if (sweeping.containsKey(b) || tombstones.contains(b)) {
                throw new SweptBlobException(b);
            }
        }
        Instant now = now();
        apply(record.repository(), ManifestReferences.recorded(record), now);
        record.blobDigests().forEach(candidates::remove);
        ManifestEntry e = new ManifestEntry();
        e.record = record;
        e.danglingSince = now;
        repo.put(record.digest(), e);
        repositories.put(record.repository(), true);
        for (Digest b : record.blobDigests()) {
            blobRefs.computeIfAbsent(b, x -> new TreeMap<>()).put(record.repository() + "\0" + record.digest(),
                    new BlobReference(b, record.repository(), record.digest()));
        }
        return true;
    }

    /** Applies reference changes all or none: a raise of an unrecorded manifest fails before anything changed. */
    private void apply(String repository, List<ManifestReferences.Change> changes, Instant now) {
        for (ManifestReferences.Change c : changes) {
            if (entry(repository, c.manifest()) == null) {
                if (c.raises()) {
                    throw new MissingManifestException(repository, c.manifest());
                }
                throw new IllegalStateException(c.name() + ": not recorded in " + repository);
            }
        }
        for (ManifestReferences.Change c : changes) {
            ManifestEntry e = entry(repository, c.manifest());
            e.counts = e.counts.plus(c);
            e.danglingSince = e.dangling() ? now : null;
        }
    }

    private ManifestEntry entry(String repository, Digest digest) {
        NavigableMap<Digest, ManifestEntry> repo = manifests.get(repository);
        return repo == null ? null : repo.get(digest);
    }

    @Override
    public synchronized Optional<ManifestRecord> getManifest(String repository, Digest digest) {
        ManifestEntry e = entry(repository, digest);
        return e == null ? Optional.empty() : Optional.of(e.record);
    }

    @Override
    public synchronized boolean markChildMirrored(String repository, Digest index, Digest child) {
        ManifestEntry e = entry(repository, index);
        if (e == null || !e.record.listsUnmirrored(child)) {
            return false;
        }
        apply(repository, ManifestReferences.childMarked(child), now());
        e.record = e.record.withChildMirrored(child);
        return true;
    }

    @Override
    public synchronized Page<ManifestRecord> listManifests(String repository, int limit, String pageToken) {
        NavigableMap<Digest, ManifestEntry> repo = manifests.getOrDefault(repository, new TreeMap<>());
        List<ManifestRecord> all = repo.values().stream().map(e -> e.record).toList();
        return byKey("manifests", all, r -> r.digest().toString(), limit, pageToken);
    }

    @Override
    public synchronized boolean recordPull(String repository, Digest digest) {
        ManifestEntry e = entry(repository, digest);
        if (e == null) {
            return false;
        }
        e.record = e.record.withPulls(now(), e.record.pullCount() + 1);
        return true;
    }

    @Override
    public synchronized Page<ManifestRecord> listDangling(Instant danglingBefore, int limit, String pageToken) {
        Instant cutoff = Timestamps.truncate(danglingBefore);
        List<ManifestEntry> all = new ArrayList<>();
        manifests.values().forEach(m -> m.values().stream()
                .filter(e -> e.dangling() && e.danglingSince.isBefore(cutoff)).forEach(all::add));
        all.sort(Comparator.comparing((ManifestEntry e) -> e.danglingSince)
                .thenComparing(e -> e.record.repository()).thenComparing(e -> e.record.digest()));
        return byKey("dangling", all, e -> String.format("%020d", Timestamps.toMicros(e.danglingSince)) + "#"
                + e.record.repository() + "#" + e.record.digest(), limit, pageToken).map(e -> e.record);
    }

    @Override
    public synchronized Page<ManifestRecord> listDanglingIn(String repository, int limit, String pageToken) {
        List<ManifestRecord> all = manifests.getOrDefault(repository, new TreeMap<>()).values().stream()
                .filter(ManifestEntry::dangling).map(e -> e.record).toList();
        return byKey("dangling-in", all, r -> r.digest().toString(), limit, pageToken);
    }

    @Override
    public synchronized boolean deleteManifestIfDangling(String repository, Digest digest, Instant danglingBefore) {
        ManifestEntry e = entry(repository, digest);
        if (e == null || !e.dangling() || !e.danglingSince.isBefore(Timestamps.truncate(danglingBefore))) {
            return false;
        }
        apply(repository, ManifestReferences.deleted(e.record), now());
        manifests.get(repository).remove(digest);
        Instant now = now();
        for (Digest b : e.record.blobDigests()) {
            if (!sweeping.containsKey(b)) {
                candidates.put(b, now);
            }
            NavigableMap<String, BlobReference> refs = blobRefs.get(b);
            refs.remove(repository + "\0" + digest);
            if (refs.isEmpty()) {
                blobRefs.remove(b);
            }
        }
        return true;
    }

    @Override
    public synchronized Optional<ManifestReferences.Counts> referenceCounts(String repository, Digest digest) {
        ManifestEntry e = entry(repository, digest);
        return e == null ? Optional.empty() : Optional.of(e.counts);
    }

    @Override
    public synchronized Page<String> listRepositories(int limit, String pageToken) {
        return byKey("repositories", new ArrayList<>(repositories.keySet()), Function.identity(), limit, pageToken);
    }

    // ---- tags ----

    @Override
    public synchronized Optional<TagRecord> getTag(String repository, String tag) {
        return Optional.ofNullable(tags.getOrDefault(repository, new TreeMap<>()).get(tag));
    }

    @Override
    public synchronized Page<TagRecord> listTags(String repository, int limit, String pageToken) {
        return byKey("tags", new ArrayList<>(tags.getOrDefault(repository, new TreeMap<>()).values()), TagRecord::tag,
                limit, pageToken);
    }

    @Override
    public synchronized boolean replaceTag(String repository, String tag, Digest current, Digest next, String cause) {
        TagRecord now = getTag(repository, tag).orElse(null);
        if (!java.util.Objects.equals(now == null ? null : now.digest(), current)) {
            return false;
        }
        Instant time = now();
        apply(repository, ManifestReferences.tagMove(current, next), time);
        if (next != null) {
            tags.computeIfAbsent(repository, r -> new TreeMap<>()).put(tag, new TagRecord(repository, tag, next, time));
        } else {
            tags.get(repository).remove(tag);
        }
        history.computeIfAbsent(repository + "\0" + tag, k -> new ArrayList<>())
                .add(new TagEvent(repository, tag, current, next, time, cause));
        return true;
    }

    @Override
    public synchronized Page<TagEvent> tagHistory(String repository, String tag, int limit, String pageToken) {
        List<TagEvent> events = new ArrayList<>(history.getOrDefault(repository + "\0" + tag, List.of()));
        java.util.Collections.reverse(events);
        return byOffset("history", events, limit, pageToken);
    }

    // ---- pins ----

    @Override
    public synchronized boolean addPin(String repository, Digest digest) {
        ManifestEntry e = entry(repository, digest);
        if (e == null) {
            throw new MissingManifestException(repository, digest);
        }
        NavigableMap<Digest, Pin> repo = pins.computeIfAbsent(repository, r -> new TreeMap<>());
        if (repo.containsKey(digest)) {
            return false;
        }
        Instant now = now();
        apply(repository, ManifestReferences.pinAdded(digest), now);
        repo.put(digest, new Pin(repository, digest, now));
        return true;
    }

    @Override
    public synchronized boolean removePin(String repository, Digest digest) {
        NavigableMap<Digest, Pin> repo = pins.get(repository);
        if (repo == null || !repo.containsKey(digest)) {
            return false;
        }
        apply(repository, ManifestReferences.pinRemoved(digest), now());
        repo.remove(digest);
        return true;
    }

    @Override
    public synchronized Page<Pin> listPins(String repository, int limit, String pageToken) {
        return byKey("pins", new ArrayList<>(pins.getOrDefault(repository, new TreeMap<>()).values()),
                p -> p.digest().toString(), limit, pageToken);
    }

    // ---- blob records ----

    @Override
    public synchronized boolean createBlobRecord(Digest digest, long size) {
        if (blobs.containsKey(digest) || sweeping.containsKey(digest)) {
            return false;
        }
        tombstones.remove(digest);
        Instant now = now();
        blobs.put(digest, new BlobRecord(digest, size, now));
        if (!blobRefs.containsKey(digest)) {
            candidates.put(digest, now);
        }
        return true;
    }

    @Override
    public synchronized Optional<BlobRecord> getBlobRecord(Digest digest) {
        return Optional.ofNullable(blobs.get(digest));
    }

    @Override
    public synchronized boolean touchBlob(Digest digest) {
        BlobRecord r = blobs.get(digest);
        if (r == null) {
            return false;
        }
        blobs.put(digest, new BlobRecord(digest, r.size(), now()));
        return true;
    }

    @Override
    public synchronized Page<BlobCandidate> listBlobCandidates(Instant before, int limit, String pageToken) {
        Instant cutoff = Timestamps.truncate(before);
        List<BlobCandidate> all = candidates.entrySet().stream().filter(c -> c.getValue().isBefore(cutoff))
                .map(c -> new BlobCandidate(c.getKey(), blobs.containsKey(c.getKey()) ? blobs.get(c.getKey()).size() : 0,
                        c.getValue()))
                .sorted(Comparator.comparing(BlobCandidate::since).thenComparing(BlobCandidate::digest)).toList();
        return byKey("candidates", all, c -> String.format("%020d", Timestamps.toMicros(c.since())) + c.digest(), limit,
                pageToken);
    }

    @Override
    public synchronized boolean dropBlobCandidate(Digest digest, Instant since) {
        return candidates.remove(digest, Timestamps.truncate(since));
    }

    @Override
    public synchronized boolean beginBlobSweep(Digest digest, Instant cutoff) {
        BlobRecord r = blobs.get(digest);
        if (r == null || !r.lastTouched().isBefore(Timestamps.truncate(cutoff))) {
            return false;
        }
        blobs.remove(digest);
        candidates.remove(digest);
        sweeping.put(digest, new BlobRecord(digest, r.size(), now()));
        return true;
    }

    @Override
    public synchronized boolean cancelBlobSweep(Digest digest) {
        BlobRecord r = sweeping.remove(digest);
        if (r == null) {
            return false;
        }
        blobs.put(digest, new BlobRecord(digest, r.size(), now()));
        return true;
    }

    @Override
    public synchronized Page<BlobCandidate> listBlobSweeps(int limit, String pageToken) {
        return byKey("sweeps", sweeping.values().stream()
                .map(r -> new BlobCandidate(r.digest(), r.size(), r.lastTouched())).toList(),
                c -> c.digest().toString(), limit, pageToken);
    }

    @Override
    public synchronized boolean finishBlobSweep(Digest digest) {
        if (sweeping.remove(digest) == null) {
            return false;
        }
        tombstones.add(digest);
        return true;
    }

    @Override
    public synchronized Page<BlobReference> referencingManifests(Digest blob, int limit, String pageToken) {
        NavigableMap<String, BlobReference> refs = blobRefs.getOrDefault(blob, new TreeMap<>());
        return byKey("refs", new ArrayList<>(refs.values()), r -> r.repository() + "\0" + r.manifest(), limit,
                pageToken);
    }

    @Override
    public synchronized boolean isReferencedIn(Digest blob, String repository) {
        return blobRefs.getOrDefault(blob, new TreeMap<>()).values().stream()
                .anyMatch(r -> r.repository().equals(repository));
    }

    @Override
    public synchronized boolean isReferenced(Digest blob) {
        return blobRefs.containsKey(blob);
    }

    // ---- jobs ----

    private boolean expired(Job j) {
        return !j.expiresAt().isAfter(now());
    }

    @Override
    public synchronized boolean createJob(Job job) {
        Job current = jobs.get(job.id());
        if (current != null && !expired(current)) {
            return false;
        }
        jobs.put(job.id(), job);
        return true;
    }

    @Override
    public synchronized Optional<Job> getJob(String id) {
        Job j = jobs.get(id);
        return j == null || expired(j) ? Optional.empty() : Optional.of(j);
    }

    @Override
    public synchronized boolean updateJob(Job job, JobStatus expectedStatus) {
        Job current = getJob(job.id()).orElse(null);
        if (current == null || (expectedStatus != null && current.status() != expectedStatus)) {
            return false;
        }
        jobs.put(job.id(), job);
        return true;
    }

    @Override
    public synchronized Page<Job> listJobs(int limit, String pageToken) {
        List<Job> all = jobs.values().stream().filter(j -> !expired(j))
                .sorted(Comparator.comparing(Job::created).thenComparing(Job::id).reversed()).toList();
        return byOffset("jobs", all, limit, pageToken);
    }

    // ---- sync rules ----

    @Override
    public synchronized void putSyncRule(SyncRule rule) {
        rules.put(rule.name(), rule);
    }

    @Override
    public synchronized Optional<SyncRule> getSyncRule(String name) {
        return Optional.ofNullable(rules.get(name));
    }

    @Override
    public synchronized Page<SyncRule> listSyncRules(int limit, String pageToken) {
        return byKey("rules", new ArrayList<>(rules.values()), SyncRule::name, limit, pageToken);
    }

    @Override
    public synchronized boolean deleteSyncRule(String name) {
        return rules.remove(name) != null;
    }

    @Override
    public synchronized Optional<RuleState> getRuleState(String name) {
        return Optional.ofNullable(ruleStates.get(name));
    }

    @Override
    public synchronized boolean replaceRuleState(RuleState next) {
        long current = Optional.ofNullable(ruleStates.get(next.rule())).map(RuleState::version).orElse(0L);
        if (current != next.version() - 1) {
            return false;
        }
        ruleStates.put(next.rule(), next);
        return true;
    }

    @Override
    public synchronized void putSyncRun(SyncRunRecord run) {
        runs.computeIfAbsent(run.rule(), r -> new TreeMap<>()).put(run.id(), run);
    }

    @Override
    public synchronized Page<SyncRunRecord> listSyncRuns(String rule, int limit, String pageToken) {
        Instant now = now();
        List<SyncRunRecord> all = runs.getOrDefault(rule, new TreeMap<>()).descendingMap().values().stream()
                .filter(r -> r.expiresAt().isAfter(now)).toList();
        return byOffset("runs", all, limit, pageToken);
    }

    @Override
    public synchronized boolean deleteSyncRun(String rule, String id) {
        NavigableMap<String, SyncRunRecord> m = runs.get(rule);
        return m != null && m.remove(id) != null;
    }

    // ---- paging ----

    /** Pages a list sorted by {@code key}; the token holds the last key returned. */
    private static <T> Page<T> byKey(String listing, List<T> sorted, Function<T, String> key, int limit,
                                     String pageToken) {
        int max = Page.checkLimit(limit);
        String after = pageToken == null ? null : PageToken.decode(listing, pageToken, 1).get(0);
        List<T> items = new ArrayList<>();
        for (T t : sorted) {
            if (after != null && key.apply(t).compareTo(after) <= 0) {
                continue;
            }
            if (items.size() == max) {
                return new Page<>(items, PageToken.encode(listing, key.apply(items.get(max - 1))));
            }
            items.add(t);
        }
        return Page.last(items);
    }

    /** Pages a list by position; the token holds the offset of the next item. */
    private static <T> Page<T> byOffset(String listing, List<T> all, int limit, String pageToken) {
        int max = Page.checkLimit(limit);
        long offset = pageToken == null ? 0
                : PageToken.number(pageToken, PageToken.decode(listing, pageToken, 1).get(0));
        if (offset < 0) {
            throw new InvalidPageTokenException(pageToken);
        }
        int from = (int) Math.min(offset, all.size());
        int to = Math.min(all.size(), from + max);
        List<T> items = all.subList(from, to);
        return new Page<>(items, to < all.size() ? PageToken.encode(listing, Integer.toString(to)) : null);
    }
}
