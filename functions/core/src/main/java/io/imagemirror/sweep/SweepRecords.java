package io.imagemirror.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.imagemirror.store.Job;
import io.imagemirror.store.JobStatus;
import io.imagemirror.store.JobStore;
import io.imagemirror.store.Page;
import io.imagemirror.store.Timestamps;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Every sweep, recorded as a job of kind {@value #KIND} (what {@code prune --status} and
 * {@code GET /v1/sweeps} show), kept {@link #KEPT} like other jobs before they expire.
 */
public final class SweepRecords {
    public static final String KIND = "sweep";
    public static final Duration KEPT = Duration.ofDays(30);
    /** Jobs read at most to find the recent sweeps among other jobs. */
    private static final int MAX_SCANNED = 5000;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final JobStore jobs;
    private final Clock clock;

    public SweepRecords(JobStore jobs, Clock clock) {
        this.jobs = Objects.requireNonNull(jobs, "jobs");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Records a finished sweep (a dry run is not recorded: it deleted nothing). */
    public void record(SweepReport r) {
        if (r.dryRun()) {
            return;
        }
        Instant now = clock.instant();
        String id = "sweep-" + Timestamps.toMicros(r.startedAt());
        Job job = new Job(id, KIND, JobStatus.SUCCEEDED, "{}", r.manifestsDeleted() + r.blobsDeleted(),
                r.manifestsDeleted() + r.blobsDeleted(), toJson(r).toString(), null, r.startedAt(), now, now.plus(KEPT));
        jobs.createJob(job);
    }

    /** The job holding the checkpoint of the sweep in progress (the AWS function's, across invocations). */
    public static final String CHECKPOINT_ID = "sweep-checkpoint";

    /** The sweep in progress, if one was saved and not cleared. */
    public Optional<Sweeper.Checkpoint> checkpoint() {
        return jobs.getJob(CHECKPOINT_ID).filter(j -> j.status() == JobStatus.RUNNING)
                .map(j -> checkpointFromJson(j.request()));
    }

    /** Saves where the sweep in progress is. */
    public void saveCheckpoint(Sweeper.Checkpoint c) {
        Instant now = clock.instant();
        Job job = new Job(CHECKPOINT_ID, KIND, JobStatus.RUNNING, checkpointJson(c), c.manifestsDeleted()
                + c.blobsDeleted(), 0, null, null, c.startedAt(), now, now.plus(KEPT));
        if (!jobs.updateJob(job, null)) {
            jobs.createJob(job);
        }
    }

    /** Forgets the checkpoint of a finished sweep (the next run starts a new one). */
    public void clearCheckpoint() {
        jobs.getJob(CHECKPOINT_ID).ifPresent(j -> jobs.updateJob(j.succeeded("{}", clock.instant()), JobStatus.RUNNING));
    }

    static String checkpointJson(Sweeper.Checkpoint c) {
        ObjectNode n = JSON.createObjectNode();
        n.put("startedAt", c.startedAt().toString());
        n.put("cutoff", c.cutoff().toString());
        n.put("phase", c.phase().name());
        n.put("pageToken", c.pageToken());
        n.put("manifestsDeleted", c.manifestsDeleted());
        n.put("blobsDeleted", c.blobsDeleted());
        n.put("bytesReclaimed", c.bytesReclaimed());
        n.put("pages", c.pages());
        return n.toString();
    }

    static Sweeper.Checkpoint checkpointFromJson(String json) {
        try {
            JsonNode n = JSON.readTree(json);
            return new Sweeper.Checkpoint(Instant.parse(n.path("startedAt").asText()),
                    Instant.parse(n.path("cutoff").asText()), Sweeper.Phase.valueOf(n.path("phase").asText()),
                    n.hasNonNull("pageToken") ? n.get("pageToken").asText() : null, n.path("manifestsDeleted").asLong(),
                    n.path("blobsDeleted").asLong(), n.path("bytesReclaimed").asLong(), n.path("pages").asInt());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The most recent sweeps, newest first. */
    public List<SweepReport> recent(int limit) {
        List<SweepReport> out = new ArrayList<>();
        String token = null;
        int scanned = 0;
        do {
            Page<Job> p = jobs.listJobs(100, token);
            for (Job j : p.items()) {
                if (KIND.equals(j.kind()) && j.status() == JobStatus.SUCCEEDED && j.result() != null
                        && !j.id().equals(CHECKPOINT_ID)) {
                    out.add(fromJson(j.result()));
                    if (out.size() == limit) {
                        return out;
                    }
                }
            }
            scanned += p.items().size();
            token = p.nextToken();
        } while (token != null && scanned < MAX_SCANNED);
        return out;
    }

    public static ObjectNode toJson(SweepReport r) {
        ObjectNode n = JSON.createObjectNode();
        n.put("startedAt", r.startedAt().toString());
        n.put("finishedAt", r.finishedAt().toString());
        n.put("cutoff", r.cutoff().toString());
        n.put("durationMillis", r.duration().toMillis());
        n.put("manifestsDeleted", r.manifestsDeleted());
        n.put("blobsDeleted", r.blobsDeleted());
        n.put("bytesReclaimed", r.bytesReclaimed());
        n.put("pages", r.pages());
        n.put("dryRun", r.dryRun());
        return n;
    }

    public static SweepReport fromJson(String json) {
        try {
            JsonNode n = JSON.readTree(json);
            return new SweepReport(Instant.parse(n.path("startedAt").asText()), Instant.parse(n.path("finishedAt")
                    .asText()), Instant.parse(n.path("cutoff").asText()), n.path("manifestsDeleted").asLong(),
                    n.path("blobsDeleted").asLong(), n.path("bytesReclaimed").asLong(), n.path("pages").asInt(),
                    n.path("dryRun").asBoolean());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
