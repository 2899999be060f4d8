package io.imagemirror.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.oci.BlobSink;
import io.imagemirror.oci.ContentMismatchException;
import io.imagemirror.metrics.Meter;
import io.imagemirror.metrics.Metrics;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.EchoedInput;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.InvalidDigestException;
import io.imagemirror.oci.MediaTypes;
import io.imagemirror.oci.OciError;
import io.imagemirror.oci.RegistryException;
import io.imagemirror.reference.ReferenceGrammar;
import io.imagemirror.upstream.RegistryAuthenticator.AuthScope;
import okhttp3.ConnectionPool;
import okhttp3.HttpUrl;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The client of one upstream registry: the only class that speaks HTTP to it. Callers get bytes,
 * descriptors and verified streams; every status, header, challenge, redirect and retry stays in
 * here. Built once per upstream over a shared {@link OkHttpClient} (its connection pool and
 * dispatcher are reused); thread-safe.
 *
 * <p>The client contacts only the upstream's endpoint, a token realm on one of its allowed auth
 * hosts, and redirect targets that {@link AddressPolicy} accepts ({@code Authorization} is never
 * sent to them). Failures are {@link RegistryException}s; bytes that do not match their digest are
 * {@link ContentMismatchException}s. Repository names are plain strings ({@code library/alpine}).
 */
public final class RegistryClient {

    /** Manifests larger than this are refused (as distribution and containerd do). */
    public static final int MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
    /** The deprecated OCI artifact manifest; still asked for so such artifacts are not refused unseen. */
    public static final String OCI_ARTIFACT_MANIFEST = "application/vnd.oci.artifact.manifest.v1+json";
    /** What manifest requests accept. */
    public static final String MANIFEST_ACCEPT = MediaTypes.acceptHeader() + ", " + OCI_ARTIFACT_MANIFEST;

    private static final int MAX_JSON_BYTES = 4 * 1024 * 1024;
    private static final int MAX_REDIRECTS = 5;
    private static final int MAX_TAG_PAGES = 10_000;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern LINK_NEXT = Pattern.compile("<([^>]*)>\\s*;[^,]*rel=\"?next\"?");
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes\\s+(\\d+)-(\\d+)/(\\d+|\\*)");

    /** A redirect target that passed {@link AddressPolicy}; the only non-upstream host requests may reach. */
    private record RedirectTarget(HttpUrl url) {
    }

    /** Reads a successful answer; may throw to reject it. */
    @FunctionalInterface
    private interface Reader<T> {
        T read(Response response) throws IOException;
    }

    private final Upstream upstream;
    private final HttpUrl base;
    private final OkHttpClient http;
    /** {@link #http} without a per-read timeout, for blob bodies; {@link #stalls} watches them instead. */
    private final OkHttpClient blobHttp;
    private final StallWatch stalls;
    private final RangedFetch rangedFetch;
    private final java.util.concurrent.Executor partHelpers;
    private final Clock clock;
    private final RetryPolicy retry;
    private final RegistryAuthenticator auth;
    private final AddressPolicy addresses;
    private final AtomicReference<RateLimit> rateLimit = new AtomicReference<>();
    private final UpstreamObserver observer;
    private final Metrics metrics;

    /**
     * @param upstream the registry to talk to (with its credentials, if any)
     * @param shared the process-wide client whose pool, dispatcher, DNS and timeouts are used
     * @param clock the clock tokens expire by
     * @param retry how 429s, 5xx and transport failures are retried
     */
    public RegistryClient(Upstream upstream, OkHttpClient shared, Clock clock, RetryPolicy retry) {
        this(upstream, shared, clock, retry, RangedFetch.DEFAULTS, RangedBlobFetch.defaultHelpers(),
                UpstreamObserver.NONE);
    }

    /** @param observer hears every answer and every failure (the shared quota ledger) */
    public RegistryClient(Upstream upstream, OkHttpClient shared, Clock clock, RetryPolicy retry,
                          UpstreamObserver observer) {
        this(upstream, shared, clock, retry, RangedFetch.DEFAULTS, RangedBlobFetch.defaultHelpers(), observer);
    }

    /**
     * @param rangedFetch when and how blobs are fetched with parallel ranged GETs ({@link #fetchBlob})
     * @param partHelpers runs the extra part fetches of a ranged fetch (the caller's thread fetches too)
     */
    public RegistryClient(Upstream upstream, OkHttpClient shared, Clock clock, RetryPolicy retry,
                          RangedFetch rangedFetch, java.util.concurrent.Executor partHelpers) {
        this(upstream, shared, clock, retry, rangedFetch, partHelpers, UpstreamObserver.NONE);
    }

    /**
     * @param rangedFetch when and how blobs are fetched with parallel ranged GETs ({@link #fetchBlob})
     * @param partHelpers runs the extra part fetches of a ranged fetch (the caller's thread fetches too)
     * @param observer hears every answer and every failure (the shared quota ledger)
     */
    public RegistryClient(Upstream upstream, OkHttpClient shared, Clock clock, RetryPolicy retry,
                          RangedFetch rangedFetch, java.util.concurrent.Executor partHelpers,
                          UpstreamObserver observer) {
        this(upstream, shared, clock, retry, rangedFetch, partHelpers, observer, Metrics.NONE);
    }

    /** @param metrics counts and times every request that reaches the network, and the stated quota */
    public RegistryClient(Upstream upstream, OkHttpClient shared, Clock clock, RetryPolicy retry, Metrics metrics) {
        this(upstream, shared, clock, retry, RangedFetch.DEFAULTS, RangedBlobFetch.defaultHelpers(),
                UpstreamObserver.NONE, metrics);
    }

    /**
     * @param rangedFetch when and how blobs are fetched with parallel ranged GETs ({@link #fetchBlob})
     * @param partHelpers runs the extra part fetches of a ranged fetch (the caller's thread fetches too)
     * @param observer hears every answer and every failure (the shared quota ledger)
     * @param metrics counts and times every request that reaches the network, and the stated quota
     */
    public RegistryClient(Upstream upstream, OkHttpClient shared, Clock clock, RetryPolicy retry,
                          RangedFetch rangedFetch, java.util.concurrent.Executor partHelpers,
                          UpstreamObserver observer, Metrics metrics) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.rangedFetch = Objects.requireNonNull(rangedFetch, "rangedFetch");
        this.partHelpers = Objects.requireNonNull(partHelpers, "partHelpers");
        this.observer = Objects.requireNonNull(observer, "observer");
        this.upstream = Objects.requireNonNull(upstream, "upstream");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.retry = Objects.requireNonNull(retry, "retry");
        this.base = HttpUrl.get(upstream.endpoint());
        this.addresses = new AddressPolicy(upstream, shared.dns());
        OkHttpClient plain = shared.newBuilder().followRedirects(false).followSslRedirects(false).build();
        this.auth = new RegistryAuthenticator(upstream, plain, clock);
        this.http = plain.newBuilder()
                .dns(addresses.guard(shared.dns()))
                .addInterceptor(auth)
                .authenticator(auth)
                .addNetworkInterceptor(this::guardHost)
                .addNetworkInterceptor(this::measure)
                .build();
        this.blobHttp = http.newBuilder().readTimeout(0, TimeUnit.MILLISECONDS).build();
        this.stalls = new StallWatch(Duration.ofMillis(shared.readTimeoutMillis()));
    }

    /**
     * A process-wide client: 10 s connect, 60 s read/write timeouts, a pool of 32 idle connections
     * kept 5 minutes. Share one across all {@code RegistryClient}s.
     */
    public static OkHttpClient defaultHttpClient() {
        return new OkHttpClient.Builder()
                .connectTimeout(10, TimeUnit.SECONDS)
                .readTimeout(60, TimeUnit.SECONDS)
                .writeTimeout(60, TimeUnit.SECONDS)
                .connectionPool(new ConnectionPool(32, 5, TimeUnit.MINUTES))
                .build();
    }

    public Upstream upstream() {
        return upstream;
    }

    /** The pull quota the upstream stated in its last answer that carried {@code ratelimit-*} headers. */
    public Optional<RateLimit> rateLimit() {
        return Optional.ofNullable(rateLimit.get());
    }

    /** {@code GET /v2/}: succeeds when the registry API answers (after authenticating if asked to). */
    public void ping() throws IOException {
        fetch(request(null).get().build(), null, r -> null);
    }

    /**
     * {@code HEAD} of a manifest by tag or digest (does not count against Docker Hub's pull limit).
     * For a tag the digest is the registry's claim; a GET by that digest verifies it.
     *
     * @throws RegistryException with {@link ErrorCode#MANIFEST_UNKNOWN} when there is none
     */
    public ManifestDescriptor headManifest(String repository, String reference) throws IOException {
        Digest pinned = checkReference(checkRepository(repository), reference);
        Request req = request(repository, "manifests", reference).head().header("Accept", MANIFEST_ACCEPT).build();
        return fetch(req, ErrorCode.MANIFEST_UNKNOWN, r -> {
            Digest claimed = headerDigest(r);
            if (pinned != null && claimed != null && !pinned.equals(claimed)) {
                throw new ContentMismatchException(ContentMismatchException.Kind.DIGEST, pinned, claimed, -1, -1);
            }
            Digest digest = pinned != null ? pinned : claimed;
            if (digest == null) {
                throw new RegistryException(describe(req) + ": no Docker-Content-Digest in the answer; GET the manifest",
                        r.code(), List.of(), null, false, null);
            }
            String mediaType = baseType(r.header("Content-Type"));
            refuseSchema1(req, r.code(), mediaType);
            return new ManifestDescriptor(digest, mediaType, contentLength(r));
        });
    }

    /**
     * {@code GET} of a manifest by tag or digest: the exact bytes, their media type, and the digest
     * computed over them. A pull by digest must hash to it; a {@code Docker-Content-Digest} header
     * must match the bytes when present. Schema 1 and manifests over {@value #MAX_MANIFEST_BYTES}
     * bytes are refused.
     *
     * @throws ContentMismatchException when the bytes do not match the digest asked for or claimed
     * @throws RegistryException with {@link ErrorCode#MANIFEST_UNKNOWN} when there is none, or
     *     {@link ErrorCode#UNSUPPORTED} for schema 1
     */
    public RawManifest getManifest(String repository, String reference) throws IOException {
        Digest pinned = checkReference(checkRepository(repository), reference);
        Request req = request(repository, "manifests", reference).get().header("Accept", MANIFEST_ACCEPT).build();
        return fetch(req, ErrorCode.MANIFEST_UNKNOWN, r -> {
            byte[] bytes = readCapped(req, r, MAX_MANIFEST_BYTES, ErrorCode.MANIFEST_INVALID);
            String mediaType = manifestMediaType(r.header("Content-Type"), bytes);
            refuseSchema1(req, r.code(), mediaType);
            Digest digest = Digest.compute(pinned != null ? pinned.algorithm() : Digest.Algorithm.SHA256, bytes);
            if (pinned != null && !pinned.equals(digest)) {
                throw new ContentMismatchException(ContentMismatchException.Kind.DIGEST, pinned, digest, -1, bytes.length);
            }
            Digest claimed = headerDigest(r);
            if (claimed != null) {
                Digest ours = Digest.compute(claimed.algorithm(), bytes);
                if (!ours.equals(claimed)) {
                    throw new ContentMismatchException(ContentMismatchException.Kind.DIGEST, claimed, ours, -1,
                            bytes.length);
                }
            }
            return new RawManifest(bytes, mediaType, digest);
        });
    }

    /** {@link #getManifest(String, String)} by digest. */
    public RawManifest getManifest(String repository, Digest digest) throws IOException {
        return getManifest(repository, digest.toString());
    }

    /**
     * {@code HEAD} of a blob: its size, or -1 when the registry did not say.
     *
     * @throws RegistryException with {@link ErrorCode#BLOB_UNKNOWN} when there is none
     */
    public long headBlob(String repository, Digest digest) throws IOException {
        Request req = request(checkRepository(repository), "blobs", digest.toString()).head().build();
        return fetch(req, ErrorCode.BLOB_UNKNOWN, r -> {
            Digest claimed = headerDigest(r);
            if (claimed != null && !claimed.equals(digest)) {
                throw new ContentMismatchException(ContentMismatchException.Kind.DIGEST, digest, claimed, -1, -1);
            }
            return contentLength(r);
        });
    }

    /**
     * Where upstream would send a client for this blob: the target of its redirect (Docker Hub
     * answers blob GETs with a short-lived signed CDN URL), or empty when it serves the bytes
     * itself. Used on AWS to hand a client a cold blob that cannot be stored within a request's
     * time limit. Makes one authenticated GET and reads no body.
     *
     * @throws RegistryException {@code BLOB_UNKNOWN} when upstream does not have it
     */
    public Optional<URI> blobLocation(String repository, Digest digest) throws IOException {
        Request req = request(checkRepository(repository), "blobs", digest.toString()).get()
                .header("Accept-Encoding", "identity").build();
        try (Response r = http.newCall(req).execute()) {
            noteRateLimit(r);
            int code = r.code();
            if (code == 301 || code == 302 || code == 303 || code == 307 || code == 308) {
                String location = r.header("Location");
                HttpUrl target = location == null ? null : req.url().resolve(location);
                return target == null || auth.isUpstream(target) ? Optional.empty() : Optional.of(target.uri());
            }
            if (code == 404) {
                throw new RegistryException(describe(req) + ": blob unknown", 404, List.of(OciError.of(ErrorCode.BLOB_UNKNOWN)));
            }
            if (code >= 400) {
                throw new RegistryException(describe(req) + ": HTTP " + code, code, List.of());
            }
            return Optional.empty();
        }
    }

    /**
     * Opens a blob for reading. The stream yields exactly the blob's bytes and ends ({@code -1})
     * only after they matched {@code digest} and {@code size}; a connection that breaks or stalls
     * mid-body is resumed with {@code Range} from the last byte read (or re-read from the start
     * and skipped when the server ignores ranges), re-authenticating if the token expired. The
     * caller closes the stream. Not thread-safe.
     *
     * @param size the exact size from the manifest, or -1 when unknown (then only the digest is checked)
     * @throws RegistryException with {@link ErrorCode#BLOB_UNKNOWN} when there is none
     */
    public InputStream openBlob(String repository, Digest digest, long size) throws IOException {
        checkRepository(repository);
        StallWatch.Ticket ticket = stalls.start();
        try {
            return BlobStream.open(offset -> openBlobRange(repository, digest, offset, -1, ticket), digest, size, retry,
                    ticket);
        } catch (IOException | RuntimeException e) {
            ticket.close();
            throw e;
        }
    }

    /**
     * Fetches a blob into {@code sink} and returns its size once its bytes matched {@code digest}
     * and {@code size}. A blob of at least the {@link RangedFetch} threshold is fetched with
     * parallel ranged GETs when the upstream honours {@code Range} (each part written at its
     * offset as it arrives, the parts hashed in order as the contiguous prefix grows), else as one
     * stream; the ranged parts of a blob count as one fetch of it. Breaks are resumed as
     * {@link #openBlob} does. Nothing is verified until this returns: the sink must not make the
     * bytes visible before (see {@link BlobSink}).
     *
     * @param size the exact size from the manifest, or -1 when unknown (then it streams)
     * @throws ContentMismatchException when the bytes are not the blob's
     * @throws RegistryException with {@link ErrorCode#BLOB_UNKNOWN} when there is none
     */
    public long fetchBlob(String repository, Digest digest, long size, BlobSink sink) throws IOException {
        checkRepository(repository);
        return new RangedBlobFetch((first, last, ticket) -> openBlobRange(repository, digest, first, last, ticket),
                digest, size, sink, rangedFetch, partHelpers, retry, stalls).run();
    }

    /** The policy {@link #fetchBlob} follows. */
    public RangedFetch rangedFetch() {
        return rangedFetch;
    }

    /**
     * The bytes of a blob from {@code offset} on, <em>not</em> verified here: for a copy that keeps
     * its own hash state across processes ({@code mirror/ResumableCopies}) and checks the digest at
     * the end itself. One {@code Range} request (a plain GET at offset 0), no resume on a broken
     * connection: the caller resumes from what it has. The caller closes the stream.
     *
     * @return the stream and the offset its first byte has: {@code offset} when upstream honoured
     *     the range, 0 when it sent the whole blob instead
     * @throws RegistryException {@link ErrorCode#BLOB_UNKNOWN} when there is none,
     *     {@link ErrorCode#RANGE_INVALID} when upstream answered a different range
     */
    public BlobBytes openBlobFrom(String repository, Digest digest, long offset) throws IOException {
        checkRepository(repository);
        if (offset < 0) {
            throw new IllegalArgumentException("negative offset " + offset);
        }
        // One sequential request: the resumable copy hashes in order and saves that state between runs.
        Response r = openBlobRange(repository, digest, offset, -1, null);
        if (offset > 0 && r.code() == 206) {
            long start = contentRangeStart(r);
            if (start != offset) {
                r.close();
                throw RegistryException.refused("blob " + digest + ": asked for bytes from " + offset
                        + ", got a range starting at " + start, ErrorCode.RANGE_INVALID);
            }
            return new BlobBytes(r.body().byteStream(), offset);
        }
        return new BlobBytes(r.body().byteStream(), 0);
    }

    /**
     * Bytes {@code first..last} (both inclusive) of a blob, <em>not</em> verified here: a part of a
     * resumable copy fetched beside others ({@code mirror/ResumableCopies}), which hashes the parts
     * in order itself. One request, no resume; the caller closes the stream.
     *
     * @return exactly those bytes, or the whole blob from byte 0 when upstream ignored the range
     *     ({@link BlobPart#whole()})
     * @throws RegistryException {@link ErrorCode#BLOB_UNKNOWN} when there is none,
     *     {@link ErrorCode#RANGE_INVALID} when upstream answered a different range
     */
    public BlobPart openBlobPart(String repository, Digest digest, long first, long last) throws IOException {
        checkRepository(repository);
        if (first < 0 || last < first) {
            throw new IllegalArgumentException("bytes " + first + "-" + last);
        }
        Response r = openBlobRange(repository, digest, first, last, null);
        if (r.code() != 206) {
            return new BlobPart(r.body().byteStream(), true);
        }
        long[] range = contentRange(r);
        if (range == null || range[0] != first || range[1] != last) {
            r.close();
            throw RegistryException.refused("blob " + digest + ": asked for bytes " + first + "-" + last + ", got "
                    + r.header("Content-Range"), ErrorCode.RANGE_INVALID);
        }
        return new BlobPart(r.body().byteStream(), false);
    }

    /**
     * Unverified blob bytes from {@link #openBlobPart}; closing the stream ends the response.
     *
     * @param stream the bytes
     * @param whole true when they are the whole blob (upstream ignored the range), false when they
     *     are exactly the range asked for
     */
    public record BlobPart(InputStream stream, boolean whole) {
    }

    /**
     * Unverified blob bytes from {@link #openBlobFrom}; closing the stream ends the response.
     *
     * @param stream the bytes
     * @param start the offset in the blob of the first byte
     */
    public record BlobBytes(InputStream stream, long start) {
    }

    /** A GET of the blob from byte {@code first} to {@code last} (inclusive; -1: to the end; 0 and -1: no Range). */
    private Response openBlobRange(String repository, Digest digest, long first, long last, StallWatch.Ticket ticket)
            throws IOException {
        // identity: OkHttp would otherwise ask for gzip and unzip transparently, and a Range over
        // a compressed representation would not line up with the blob's bytes.
        Request.Builder req = request(repository, "blobs", digest.toString()).get().header("Accept-Encoding", "identity")
                .tag(StallWatch.Ticket.class, ticket);
        if (first > 0 || last >= 0) {
            req.header("Range", "bytes=" + first + "-" + (last >= 0 ? Long.toString(last) : ""));
        }
        return open(req.build(), ErrorCode.BLOB_UNKNOWN);
    }

    /** The start offset of a {@code 206}'s {@code Content-Range}, or -1 when absent or malformed. */
    static long contentRangeStart(Response response) {
        long[] r = contentRange(response);
        return r == null ? -1 : r[0];
    }

    /** {@code {first, last, total}} of a {@code Content-Range} (total -1 for {@code *}), or null when absent or malformed. */
    static long[] contentRange(Response response) {
        String value = response.header("Content-Range");
        Matcher m = value == null ? null : CONTENT_RANGE.matcher(value.trim());
        if (m == null || !m.matches()) {
            return null;
        }
        try {
            return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2)),
                    m.group(3).equals("*") ? -1 : Long.parseLong(m.group(3))};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** Every tag of {@code repository}, following {@code Link} pagination. */
    public List<String> tags(String repository) throws IOException {
        checkRepository(repository);
        List<String> all = new ArrayList<>();
        Set<HttpUrl> seen = new HashSet<>();
        HttpUrl url = request(repository, "tags", "list").build().url();
        while (url != null) {
            if (!seen.add(url) || seen.size() > MAX_TAG_PAGES) {
                throw RegistryException.refused(upstream.name() + ": tag list of " + repository
                        + " does not end (page links repeat or exceed " + MAX_TAG_PAGES + ")", ErrorCode.UNKNOWN);
            }
            Page page = tagPage(repository, url);
            all.addAll(page.tags());
            url = page.next();
        }
        return List.copyOf(all);
    }

    /**
     * One page of tags: at most {@code n} (0 for the registry's default) after {@code last} (null for
     * the first page). Registries may ignore {@code n} (distribution 2.8 does).
     */
    public TagPage tags(String repository, int n, String last) throws IOException {
        HttpUrl.Builder url = request(checkRepository(repository), "tags", "list").build().url().newBuilder();
        if (n > 0) {
            url.addQueryParameter("n", Integer.toString(n));
        }
        if (last != null) {
            url.addQueryParameter("last", last);
        }
        Page page = tagPage(repository, url.build());
        return new TagPage(page.tags(), Optional.ofNullable(page.next()).map(u -> u.queryParameter("last")));
    }

    private record Page(List<String> tags, HttpUrl next) {
    }

    private Page tagPage(String repository, HttpUrl url) throws IOException {
        Request req = new Request.Builder().url(url).get().tag(AuthScope.class, AuthScope.pull(repository)).build();
        return fetch(req, ErrorCode.NAME_UNKNOWN, r -> {
            JsonNode json = parseJson(req, readCapped(req, r, MAX_JSON_BYTES, ErrorCode.UNKNOWN));
            List<String> tags = new ArrayList<>();
            for (JsonNode t : json.path("tags")) {
                tags.add(t.asText());
            }
            return new Page(tags, nextLink(req, r.header("Link")));
        });
    }

    private HttpUrl nextLink(Request req, String link) throws RegistryException {
        if (link == null) {
            return null;
        }
        Matcher m = LINK_NEXT.matcher(link);
        if (!m.find()) {
            return null;
        }
        HttpUrl next = req.url().resolve(m.group(1));
        if (next == null || !auth.isUpstream(next)) {
            throw RegistryException.refused(describe(req) + ": refusing a next-page link that leaves "
                    + upstream.endpoint().getHost(), ErrorCode.DENIED);
        }
        return next;
    }

    /**
     * The referrers of {@code subject}: the OCI 1.1 referrers API, or, where the registry lacks it
     * (404), the index tagged {@code <alg>-<hex>}; {@link Referrers.Source#NONE} when neither exists.
     */
    public Referrers referrers(String repository, Digest subject) throws IOException {
        checkRepository(repository);
        Request req = request(repository, "referrers", subject.toString()).get()
                .header("Accept", MediaTypes.OCI_INDEX).build();
        try {
            return fetch(req, null, r -> {
                byte[] bytes = readCapped(req, r, MAX_MANIFEST_BYTES, ErrorCode.MANIFEST_INVALID);
                return new Referrers(Referrers.Source.API, bytes, referrersOf(req, bytes));
            });
        } catch (RegistryException e) {
            if (e.status() != 404) {
                throw e;
            }
        }
        String alg = subject.algorithm().id();
        String tag = alg.substring(0, Math.min(32, alg.length())) + "-"
                + subject.hex().substring(0, Math.min(64, subject.hex().length()));
        try {
            RawManifest index = getManifest(repository, tag);
            return new Referrers(Referrers.Source.TAG_SCHEMA, index.bytes(), referrersOf(req, index.bytes()));
        } catch (RegistryException e) {
            if (e.status() == 404) {
                return new Referrers(Referrers.Source.NONE, new byte[0], List.of());
            }
            throw e;
        }
    }

    private List<Referrers.Referrer> referrersOf(Request req, byte[] index) throws RegistryException {
        JsonNode json = parseJson(req, index);
        List<Referrers.Referrer> out = new ArrayList<>();
        for (JsonNode m : json.path("manifests")) {
            Map<String, String> annotations = new HashMap<>();
            m.path("annotations").properties().forEach(e -> annotations.put(e.getKey(), e.getValue().asText()));
            try {
                out.add(new Referrers.Referrer(m.path("mediaType").asText(""), Digest.parse(m.path("digest").asText("")),
                        m.path("size").asLong(-1), m.path("artifactType").asText(null), annotations));
            } catch (InvalidDigestException e) {
                throw RegistryException.refused(describe(req) + ": referrers index has an invalid digest",
                        ErrorCode.MANIFEST_INVALID);
            }
        }
        return out;
    }

    // ---- requests, retries, redirects ------------------------------------------------------

    private Request.Builder request(String repository, String... segments) {
        HttpUrl.Builder url = base.newBuilder().encodedPath("/").addPathSegment("v2");
        if (repository != null) {
            url.addPathSegments(repository);
        }
        if (segments.length == 0) {
            url.addPathSegment("");
        }
        for (String s : segments) {
            url.addPathSegment(s);
        }
        return new Request.Builder().url(url.build())
                .tag(AuthScope.class, repository == null ? AuthScope.NONE : AuthScope.pull(repository));
    }

    /**
     * Runs {@code request} and hands the successful answer to {@code reader}, retrying as
     * {@link #open} does and also when the body breaks while being read.
     */
    private <T> T fetch(Request request, ErrorCode notFound, Reader<T> reader) throws IOException {
        for (int bodyFailures = 1; ; bodyFailures++) {
            try (Response r = open(request, notFound)) {
                return reader.read(r);
            } catch (RegistryException | ContentMismatchException e) {
                throw e;
            } catch (IOException e) {
                if (Thread.currentThread().isInterrupted() || bodyFailures >= retry.maxAttempts()) {
                    throw RegistryException.transport(describe(request) + ": body broke: " + summary(e), e);
                }
                sleep(retry.delayAfter(bodyFailures, null));
            }
        }
    }

    /**
     * Sends {@code request} (following redirects) until a 2xx arrives, retrying retryable failures
     * as the {@link RetryPolicy} says. The caller closes the returned response.
     *
     * @param notFound the code a 404 without an OCI error body stands for, or null
     */
    private Response open(Request request, ErrorCode notFound) throws IOException {
        Duration waited = Duration.ZERO;
        for (int attempt = 1; ; attempt++) {
            RegistryException failure;
            try {
                Response r = send(request);
                if (r.isSuccessful()) {
                    return r;
                }
                failure = failureOf(request, r, notFound);
            } catch (RegistryException e) {
                failure = e;
            } catch (IOException e) {
                if (Thread.currentThread().isInterrupted()) {
                    throw e;
                }
                failure = RegistryException.transport(describe(request) + ": " + summary(e), e);
            }
            if (!failure.isRetryable() || attempt >= retry.maxAttempts()) {
                throw noteFailure(failure);
            }
            Duration delay = retry.delayAfter(attempt, failure.retryAfter().orElse(null));
            if (waited.plus(delay).compareTo(retry.maxTotalWait()) > 0) {
                throw noteFailure(failure); // the registry wants a longer pause than we may spend here
            }
            sleep(delay);
            waited = waited.plus(delay);
        }
    }

    private void sleep(Duration d) throws InterruptedIOException {
        try {
            retry.sleeper().sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while backing off");
        }
    }

    /** One attempt: sends, and follows redirects without credentials to hosts the policy accepts. */
    private Response send(Request first) throws IOException {
        Request current = first;
        StallWatch.Ticket ticket = first.tag(StallWatch.Ticket.class);
        for (int hop = 0; ; hop++) {
            Response r;
            if (ticket != null) {
                okhttp3.Call call = blobHttp.newCall(current);
                ticket.attach(call);
                r = call.execute();
            } else {
                r = http.newCall(current).execute();
            }
            if (auth.isUpstream(current.url())) {
                noteRateLimit(r);
            }
            int code = r.code();
            if (code != 301 && code != 302 && code != 303 && code != 307 && code != 308) {
                return r;
            }
            String location = r.header("Location");
            r.close();
            HttpUrl target = location == null ? null : current.url().resolve(location);
            if (target == null) {
                throw new RegistryException(describe(first) + ": redirect without a usable Location", code, List.of());
            }
            if (hop >= MAX_REDIRECTS) {
                throw RegistryException.refused(describe(first) + ": more than " + MAX_REDIRECTS + " redirects",
                        ErrorCode.UNKNOWN);
            }
            Request.Builder next = new Request.Builder().url(target).method(current.method(), null);
            for (String h : List.of("Accept", "Accept-Encoding", "Range")) {
                String v = current.header(h);
                if (v != null) {
                    next.header(h, v);
                }
            }
            if (ticket != null) {
                next.tag(StallWatch.Ticket.class, ticket);
            }
            if (auth.isUpstream(target)) {
                next.tag(AuthScope.class, current.tag(AuthScope.class));
            } else {
                addresses.checkRedirect(current.url(), target);
                next.tag(RedirectTarget.class, new RedirectTarget(target));
            }
            current = next.build();
        }
    }

    /**
     * The last line of defence of the allow-list: every request that reaches the network goes to
     * the upstream endpoint or to a redirect target that was checked, and only the former carries
     * {@code Authorization}.
     */
    private Response guardHost(Interceptor.Chain chain) throws IOException {
        Request r = chain.request();
        if (auth.isUpstream(r.url())) {
            return chain.proceed(r);
        }
        RedirectTarget t = r.tag(RedirectTarget.class);
        if (t == null || !t.url().host().equals(r.url().host()) || t.url().port() != r.url().port()) {
            throw RegistryException.refused(upstream.name() + ": refusing to contact " + r.url().host()
                    + ", which is not this upstream", ErrorCode.DENIED);
        }
        return chain.proceed(r.header("Authorization") == null ? r : r.newBuilder().removeHeader("Authorization").build());
    }

    /** Times each request on the network (after {@link #guardHost}: a refused host is not a request). */
    private Response measure(Interceptor.Chain chain) throws IOException {
        long start = System.nanoTime();
        String status = "error";
        try {
            Response r = chain.proceed(chain.request());
            status = Integer.toString(r.code());
            return r;
        } finally {
            metrics.since(Meter.UPSTREAM_REQUESTS, start, upstream.name(), chain.request().method(), status);
        }
    }

    private RegistryException failureOf(Request request, Response r, ErrorCode notFound) throws IOException {
        try (r) {
            List<OciError> errors = request.method().equals("HEAD") ? List.of() : OciError.read(r.body().byteStream());
            if (errors.isEmpty()) {
                ErrorCode implied = switch (r.code()) {
                    case 401 -> ErrorCode.UNAUTHORIZED;
                    case 403 -> ErrorCode.DENIED;
                    case 404 -> notFound;
                    case 416 -> ErrorCode.RANGE_INVALID;
                    case 429 -> ErrorCode.TOOMANYREQUESTS;
                    default -> null;
                };
                if (implied != null) {
                    errors = List.of(OciError.of(implied));
                }
            }
            return new RegistryException(describe(request), r.code(), errors, retryAfter(r.header("Retry-After")),
                    RegistryException.retryableStatus(r.code(), errors), null);
        }
    }

    /** {@code Retry-After} as seconds or an HTTP date; null when absent or unreadable. */
    Duration retryAfter(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String v = value.trim();
        try {
            return Duration.ofSeconds(Math.max(0, Long.parseLong(v)));
        } catch (NumberFormatException notSeconds) {
            try {
                Duration d = Duration.between(clock.instant(),
                        ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
                return d.isNegative() ? Duration.ZERO : d;
            } catch (DateTimeParseException notADate) {
                return null;
            }
        }
    }

    private void noteRateLimit(Response r) {
        Optional<RateLimit> quota = RateLimit.parse(r.header("ratelimit-limit"), r.header("ratelimit-remaining"),
                clock.instant());
        quota.ifPresent(q -> {
            rateLimit.set(q);
            metrics.set(Meter.QUOTA_REMAINING, q.remaining(), upstream.name());
            metrics.set(Meter.QUOTA_LIMIT, q.limit(), upstream.name());
        });
        observer.answered(upstream.name(), r.request().method(), kindOf(r.request().url()), r.code(), quota);
    }

    /** What a request to the upstream asked for, from its path ({@code /v2/<name>/manifests/<ref>}, ...). */
    private static UpstreamObserver.Kind kindOf(HttpUrl url) {
        List<String> segments = url.pathSegments();
        if (segments.size() >= 3) {
            String kind = segments.get(segments.size() - 2);
            switch (kind) {
                case "manifests":
                    return UpstreamObserver.Kind.MANIFEST;
                case "blobs":
                    return UpstreamObserver.Kind.BLOB;
                case "tags":
                    return UpstreamObserver.Kind.TAGS;
                default:
                    break;
            }
        }
        return UpstreamObserver.Kind.OTHER;
    }

    /** Reports a request that failed for good when the failure is worth reporting (not a 404). */
    private RegistryException noteFailure(RegistryException failure) {
        int status = failure.status();
        if ((status == 0 && failure.isRetryable()) || status == 401 || status == 403 || status == 429 || status >= 500) {
            observer.failed(upstream.name(), failure);
        }
        return failure;
    }

    // ---- reading answers -------------------------------------------------------------------

    private byte[] readCapped(Request req, Response r, int cap, ErrorCode code) throws IOException {
        long declared = r.body().contentLength();
        if (declared > cap) {
            throw RegistryException.refused(describe(req) + ": answer of " + declared + " bytes exceeds the limit of "
                    + cap, code);
        }
        byte[] bytes = r.body().byteStream().readNBytes(cap + 1);
        if (bytes.length > cap) {
            throw RegistryException.refused(describe(req) + ": answer exceeds the limit of " + cap + " bytes", code);
        }
        return bytes;
    }

    private static JsonNode parseJson(Request req, byte[] bytes) throws RegistryException {
        try {
            JsonNode n = JSON.readTree(bytes);
            if (n == null || !n.isObject()) {
                throw new IOException("not a JSON object");
            }
            return n;
        } catch (IOException e) {
            throw RegistryException.refused(req.method() + " " + req.url().encodedPath() + ": answer is not a JSON object",
                    ErrorCode.UNKNOWN);
        }
    }

    /** The manifest's media type: the Content-Type, or the document's own when the header is generic. */
    static String manifestMediaType(String contentType, byte[] bytes) {
        String type = baseType(contentType);
        if (!type.isEmpty() && !type.equals("application/json") && !type.equals("text/plain")
                && !type.equals("application/octet-stream")) {
            return type;
        }
        try {
            JsonNode n = JSON.readTree(bytes);
            if (n != null && n.isObject()) {
                if (n.path("schemaVersion").asInt() == 1) {
                    return MediaTypes.DOCKER_SCHEMA1;
                }
                String declared = n.path("mediaType").asText("");
                if (!declared.isEmpty()) {
                    return declared;
                }
                if (n.has("manifests")) {
                    return MediaTypes.OCI_INDEX;
                }
                if (n.has("config")) {
                    return MediaTypes.OCI_MANIFEST;
                }
            }
        } catch (IOException notJson) {
            // fall through: report what the header said
        }
        return type.isEmpty() ? "application/octet-stream" : type;
    }

    private static String baseType(String contentType) {
        if (contentType == null) {
            return "";
        }
        int semi = contentType.indexOf(';');
        return (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
    }

    private void refuseSchema1(Request req, int status, String mediaType) throws RegistryException {
        if (MediaTypes.isSchema1(mediaType)) {
            throw new RegistryException(describe(req) + ": this is a Docker schema 1 manifest (" + mediaType
                    + "), which image-mirror does not support; the image needs to be pushed again with a current tool",
                    status, List.of(OciError.of(ErrorCode.UNSUPPORTED, "schema 1 manifests are not supported")),
                    null, false, null);
        }
    }

    private static Digest headerDigest(Response r) {
        String v = r.header("Docker-Content-Digest");
        return v != null && Digest.isValid(v.trim()) ? Digest.parse(v.trim()) : null;
    }

    private static long contentLength(Response r) {
        String v = r.header("Content-Length");
        try {
            return v == null ? -1 : Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static String checkRepository(String repository) {
        Objects.requireNonNull(repository, "repository");
        if (!ReferenceGrammar.isRepositoryPath(repository)) {
            throw new IllegalArgumentException("invalid repository name \"" + EchoedInput.of(repository) + "\"");
        }
        return repository;
    }

    /** The digest a reference pins, or null for a tag. */
    private static Digest checkReference(String repository, String reference) {
        Objects.requireNonNull(reference, "reference");
        if (reference.indexOf(':') >= 0) {
            return Digest.parse(reference);
        }
        if (!ReferenceGrammar.isTag(reference)) {
            throw new IllegalArgumentException("invalid tag \"" + EchoedInput.of(reference) + "\" for " + repository);
        }
        return null;
    }

    /** {@code name: METHOD /path} — never a query string, which may carry signatures. */
    private String describe(Request request) {
        return upstream.name() + ": " + request.method() + " " + request.url().encodedPath();
    }

    private static String summary(IOException e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m.replaceAll("\\?\\S*", "?…"));
    }

    @Override
    public String toString() {
        return "RegistryClient[" + upstream + "]";
    }
}
