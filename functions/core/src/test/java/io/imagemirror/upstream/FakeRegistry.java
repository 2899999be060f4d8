package io.imagemirror.upstream;

import io.imagemirror.oci.Digest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;

/**
 * A registry that plays Docker Hub for {@code MockWebServer}: a Bearer challenge naming a token
 * realm on another server ({@link TokenServer}), tokens checked per repository scope, blob GETs
 * redirected to a CDN server when one is set, {@code ratelimit-*} headers, {@code Link}-paged tag
 * lists, and injectable faults (queued answers, truncated bodies, wrong bytes, ignored ranges).
 * The same class in {@link #cdn()} mode plays the CDN: no auth, blobs at {@code /blobs/<digest>}.
 */
final class FakeRegistry extends Dispatcher {

    record Stored(byte[] bytes, String mediaType) {
    }

    final Map<String, Stored> manifests = new ConcurrentHashMap<>(); // "repo@ref" → manifest
    final Map<String, byte[]> blobs = new ConcurrentHashMap<>();     // digest → bytes
    final Map<String, Set<String>> tags = new ConcurrentHashMap<>();
    final Map<String, byte[]> referrers = new ConcurrentHashMap<>(); // subject digest → index (API on)
    final List<RecordedRequest> requests = new CopyOnWriteArrayList<>();
    /** Answers served before normal handling, one per request, for paths containing the key. */
    final Deque<Map.Entry<String, MockResponse>> faults = new ConcurrentLinkedDeque<>();

    volatile TokenServer tokens;              // null: no auth
    volatile String cdnBase;                  // e.g. http://localhost:1234 — blob GETs redirect there
    volatile String redirectOverride;         // a Location to send for blob GETs instead
    volatile boolean referrersApi;
    volatile boolean sendDigestHeader = true;
    volatile String wrongDigestHeader;        // sent instead of the real one
    volatile boolean honourRange = true;
    volatile int tagPageSize = 2;
    volatile String rateLimit;                // e.g. "100;w=21600"
    volatile String rateRemaining;
    /** Byte offsets at which successive blob bodies are cut (one entry per broken answer). */
    final Deque<Long> truncateAt = new ConcurrentLinkedDeque<>();
    /** Byte offsets at which successive blob bodies stall (connection held open, nothing sent). */
    final Deque<Long> stallAt = new ConcurrentLinkedDeque<>();
    /** When set, blob bodies carry these bytes instead of the real ones. */
    volatile byte[] wrongBlobBytes;
    /** Blob GETs answered with a {@code 206}. */
    final java.util.concurrent.atomic.AtomicInteger rangedGets = new java.util.concurrent.atomic.AtomicInteger();
    final AtomicInteger blobGets = new AtomicInteger();

    private final boolean cdn;

    private FakeRegistry(boolean cdn) {
        this.cdn = cdn;
    }

    static FakeRegistry registry() {
        return new FakeRegistry(false);
    }

    static FakeRegistry cdn() {
        return new FakeRegistry(true);
    }

    // ---- content ---------------------------------------------------------------------------

    Digest putManifest(String repo, String tag, String mediaType, byte[] bytes) {
        Digest d = Digest.sha256(bytes);
        manifests.put(repo + "@" + d, new Stored(bytes, mediaType));
        if (tag != null) {
            manifests.put(repo + "@" + tag, new Stored(bytes, mediaType));
            tags.computeIfAbsent(repo, k -> Collections.synchronizedSet(new TreeSet<>())).add(tag);
        }
        return d;
    }

    Digest putBlob(byte[] bytes) {
        Digest d = Digest.sha256(bytes);
        blobs.put(d.toString(), bytes);
        return d;
    }

    void fault(String pathPart, MockResponse response) {
        faults.add(Map.entry(pathPart, response));
    }

    List<RecordedRequest> requestsTo(String pathPart) {
        return requests.stream().filter(r -> r.getUrl().encodedPath().contains(pathPart)).toList();
    }

    // ---- dispatch --------------------------------------------------------------------------

    private static final Pattern ROUTE = Pattern.compile("^/v2/(.+)/(manifests|blobs|tags|referrers)/([^/]+)$");

    @Override
    public MockResponse dispatch(RecordedRequest request) {
        requests.add(request);
        String path = request.getUrl().encodedPath();
        for (Map.Entry<String, MockResponse> f : faults) {
            if (path.contains(f.getKey()) && faults.remove(f)) {
                return f.getValue();
            }
        }
        if (cdn) {
            return path.startsWith("/blobs/") ? blob(request, path.substring("/blobs/".length())) : notFound("BLOB_UNKNOWN");
        }
        MockResponse.Builder answer = route(request, path);
        if (rateLimit != null) {
            answer.setHeader("ratelimit-limit", rateLimit).setHeader("ratelimit-remaining", rateRemaining);
        }
        return answer.build();
    }

    private MockResponse.Builder route(RecordedRequest request, String path) {
        if (path.equals("/v2/")) {
            MockResponse.Builder denied = checkAuth(request, "");
            return denied != null ? denied : json(200, "{}");
        }
        Matcher m = ROUTE.matcher(path);
        if (!m.matches()) {
            return new MockResponse.Builder().code(404).body("404 page not found\n");
        }
        String repo = m.group(1);
        String kind = m.group(2);
        String ref = m.group(3);
        MockResponse.Builder denied = checkAuth(request, "repository:" + repo + ":pull");
        if (denied != null) {
            return denied;
        }
        return switch (kind) {
            case "manifests" -> manifest(request, repo, ref);
            case "blobs" -> {
                if (request.getMethod().equals("GET") && redirectOverride != null) {
                    yield new MockResponse.Builder().code(307).setHeader("Location", redirectOverride);
                }
                if (request.getMethod().equals("GET") && cdnBase != null) {
                    yield new MockResponse.Builder().code(307)
                            .setHeader("Location", cdnBase + "/blobs/" + ref + "?sig=secret-signature");
                }
                yield blob(request, ref).newBuilder();
            }
            case "tags" -> tagList(request, repo);
            default -> referrersOf(ref);
        };
    }

    private MockResponse.Builder checkAuth(RecordedRequest request, String scope) {
        TokenServer t = tokens;
        if (t == null) {
            return null;
        }
        String auth = request.getHeaders().get("Authorization");
        if (auth != null && auth.startsWith("Bearer ") && t.grants(auth.substring(7), scope)) {
            return null;
        }
        String challenge = "Bearer realm=\"" + t.realm() + "\",service=\"" + TokenServer.SERVICE + "\""
                + (scope.isEmpty() ? "" : ",scope=\"" + scope + "\"");
        return json(401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}")
                .setHeader("WWW-Authenticate", challenge);
    }

    private MockResponse.Builder manifest(RecordedRequest request, String repo, String ref) {
        Stored s = manifests.get(repo + "@" + ref);
        if (s == null) {
            return json(404, "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\",\"detail\":{\"Tag\":\"" + ref + "\"}}]}");
        }
        MockResponse.Builder b = new MockResponse.Builder().code(200).setHeader("Content-Type", s.mediaType());
        if (wrongDigestHeader != null) {
            b.setHeader("Docker-Content-Digest", wrongDigestHeader);
        } else if (sendDigestHeader) {
            b.setHeader("Docker-Content-Digest", Digest.sha256(s.bytes()).toString());
        }
        if (request.getMethod().equals("HEAD")) {
            return b.setHeader("Content-Length", s.bytes().length);
        }
        return b.body(new okio.Buffer().write(s.bytes()));
    }

    private MockResponse blob(RecordedRequest request, String digest) {
        byte[] bytes = blobs.get(digest);
        if (bytes == null) {
            return notFound("BLOB_UNKNOWN");
        }
        if (wrongBlobBytes != null) {
            bytes = wrongBlobBytes;
        }
        if (request.getMethod().equals("HEAD")) {
            return new MockResponse.Builder().code(200).setHeader("Content-Length", bytes.length)
                    .setHeader("Docker-Content-Digest", digest).build();
        }
        blobGets.incrementAndGet();
        long from = 0;
        long to = bytes.length - 1;
        boolean ranged = false;
        String range = request.getHeaders().get("Range");
        if (range != null && honourRange) {
            Matcher m = Pattern.compile("bytes=(\\d+)-(\\d*)").matcher(range);
            if (m.matches()) {
                from = Long.parseLong(m.group(1));
                if (!m.group(2).isEmpty()) {
                    to = Math.min(to, Long.parseLong(m.group(2)));
                }
                ranged = from > 0 || !m.group(2).isEmpty();
            }
        }
        if (ranged) {
            rangedGets.incrementAndGet();
        }
        MockResponse.Builder b = new MockResponse.Builder().code(ranged ? 206 : 200)
                .setHeader("Content-Type", "application/octet-stream");
        if (ranged) {
            b.setHeader("Content-Range", "bytes " + from + "-" + to + "/" + bytes.length);
        }
        Long stall = stallAt.poll();
        Long cut = stall != null ? stall : truncateAt.poll();
        if (cut == null || cut > to) {
            return b.body(new okio.Buffer().write(bytes, (int) from, (int) (to + 1 - from))).build();
        }
        // Promise the whole rest, send part of it, then drop the connection: a body cut off mid-way.
        byte[] all = bytes;
        int start = (int) from;
        int end = (int) Math.max(cut, from);
        return b.setHeader("Content-Length", to + 1 - start).socketHandler(socket -> {
            try (okio.BufferedSink sink = okio.Okio.buffer(socket.getSink())) {
                sink.write(all, start, end - start);
                sink.flush();
                if (stall != null) {
                    Thread.sleep(1_000); // longer than the client's read timeout
                }
            } catch (IOException | InterruptedException ignored) {
                // the client went away first
            } finally {
                socket.cancel();
            }
        }).build();
    }

    private MockResponse.Builder tagList(RecordedRequest request, String repo) {
        Set<String> all = tags.get(repo);
        if (all == null) {
            return json(404, "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"repository name not known to registry\"}]}");
        }
        List<String> sorted;
        synchronized (all) {
            sorted = new ArrayList<>(all);
        }
        String last = request.getUrl().queryParameter("last");
        String n = request.getUrl().queryParameter("n");
        int size = n == null ? tagPageSize : Integer.parseInt(n);
        List<String> after = sorted.stream().filter(t -> last == null || t.compareTo(last) > 0).toList();
        List<String> page = after.subList(0, Math.min(size, after.size()));
        StringBuilder body = new StringBuilder("{\"name\":\"" + repo + "\",\"tags\":[");
        for (int i = 0; i < page.size(); i++) {
            body.append(i == 0 ? "" : ",").append('"').append(page.get(i)).append('"');
        }
        body.append("]}");
        MockResponse.Builder b = json(200, body.toString());
        if (after.size() > page.size()) {
            b.setHeader("Link", "</v2/" + repo + "/tags/list?last=" + page.get(page.size() - 1) + "&n=" + size
                    + ">; rel=\"next\"");
        }
        return b;
    }

    private MockResponse.Builder referrersOf(String digest) {
        if (!referrersApi) {
            return new MockResponse.Builder().code(404).body("404 page not found\n");
        }
        byte[] index = referrers.getOrDefault(digest,
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}"
                        .getBytes(StandardCharsets.UTF_8));
        return new MockResponse.Builder().code(200).setHeader("Content-Type", "application/vnd.oci.image.index.v1+json")
                .body(new okio.Buffer().write(index));
    }

    static MockResponse.Builder json(int code, String body) {
        return new MockResponse.Builder().code(code).setHeader("Content-Type", "application/json").body(body);
    }

    private static MockResponse notFound(String code) {
        return json(404, "{\"errors\":[{\"code\":\"" + code + "\",\"message\":\"not found\"}]}").build();
    }
}
