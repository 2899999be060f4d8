package io.imagemirror.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.imagemirror.cache.NameRouter;
import io.imagemirror.cache.PullThroughCache;
import io.imagemirror.cache.Target;
import io.imagemirror.metrics.Meter;
import io.imagemirror.metrics.Metrics;
import io.imagemirror.oci.ContentMismatchException;
import io.imagemirror.oci.Descriptor;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.EchoedInput;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.InvalidDigestException;
import io.imagemirror.oci.MediaTypes;
import io.imagemirror.oci.OciError;
import io.imagemirror.oci.RegistryException;
import io.imagemirror.reference.ReferenceGrammar;
import io.imagemirror.store.BlobStore;
import io.imagemirror.store.ByteRange;
import io.imagemirror.store.RangeNotSatisfiableException;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pull side of the OCI distribution API over the {@link PullThroughCache}: {@code /v2/},
 * manifests and blobs (GET, HEAD, {@code Range}), {@code tags/list} and {@code _catalog} with
 * {@code n}/{@code last} and {@code Link}, and the OCI 1.1 referrers API. Every write method is
 * answered 405 {@code UNSUPPORTED}; every error is OCI error JSON with the spec's status.
 *
 * <p>Blobs are answered with their bytes, or, where the store can sign URLs and
 * {@code redirectBlobs} is set (S3 behind API Gateway), with a 307 to a short-lived URL.
 */
public final class DistributionApi implements ApiHandler {

    public static final String API_VERSION_HEADER = "Docker-Distribution-API-Version";
    private static final Pattern RANGE = Pattern.compile("(?i)bytes=(\\d*)-(\\d*)");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int DEFAULT_PAGE = 1000;

    private final PullThroughCache cache;
    private final NameRouter router;
    private final BlobStore blobs;
    private final boolean redirectBlobs;
    private final Duration presignTtl;
    private final Metrics metrics;

    /** @param blobs the blob store {@code cache} fills, which stored blobs are served from */
    public DistributionApi(PullThroughCache cache, BlobStore blobs, NameRouter router, boolean redirectBlobs,
                           Duration presignTtl) {
        this(cache, blobs, router, redirectBlobs, presignTtl, Metrics.NONE);
    }

    /** @param metrics counts the blob bytes answered ({@link Meter#BLOB_BYTES_SERVED}) */
    public DistributionApi(PullThroughCache cache, BlobStore blobs, NameRouter router, boolean redirectBlobs,
                           Duration presignTtl, Metrics metrics) {
        this.metrics = metrics;
        this.cache = cache;
        this.router = router;
        this.blobs = blobs;
        this.redirectBlobs = redirectBlobs;
        this.presignTtl = presignTtl;
    }

    /** Whether this API answers {@code path}. */
    public static boolean handles(String path) {
        return path.equals("/v2") || path.startsWith("/v2/");
    }

    @Override
    public ApiResponse handle(ApiRequest request) throws IOException {
        ApiResponse r;
        try {
            r = route(request);
        } catch (RegistryException e) {
            r = error(e).failure(e.getMessage());
        } catch (ContentMismatchException e) {
            r = ApiErrors.of(502, ErrorCode.UNKNOWN, "upstream sent content that does not match "
                    + e.wantDigest() + "; nothing was stored").failure(e.getMessage());
        }
        return r.header(API_VERSION_HEADER, "registry/2.0");
    }

    private ApiResponse route(ApiRequest req) throws IOException {
        String path = req.path();
        if (path.equals("/v2") || path.equals("/v2/")) {
            return req.isRead() ? ApiResponse.json(200, "{}") : unsupported(req);
        }
        if (!req.isRead()) {
            return unsupported(req);
        }
        String rest = path.substring("/v2/".length());
        if (rest.equals("_catalog")) {
            return catalog(req);
        }
        int i;
        if ((i = rest.lastIndexOf("/manifests/")) > 0) {
            return manifest(req, target(req, rest.substring(0, i)), rest.substring(i + "/manifests/".length()));
        }
        if ((i = rest.lastIndexOf("/blobs/")) > 0) {
            return blob(req, target(req, rest.substring(0, i)), rest.substring(i + "/blobs/".length()));
        }
        if (rest.endsWith("/tags/list")) {
            String name = rest.substring(0, rest.length() - "/tags/list".length());
            return tags(req, target(req, name), name);
        }
        if ((i = rest.lastIndexOf("/referrers/")) > 0) {
            return referrers(req, target(req, rest.substring(0, i)), rest.substring(i + "/referrers/".length()));
        }
        return ApiErrors.of(404, ErrorCode.NAME_UNKNOWN, "no such endpoint: " + req.method() + " " + path);
    }

    private Target target(ApiRequest req, String name) throws RegistryException {
        return router.route(name, req.queryParam("ns"));
    }

    /** A digest from the path; a malformed one is a 400 {@code DIGEST_INVALID}. */
    private static Digest digest(String value) throws RegistryException {
        try {
            return Digest.parse(value);
        } catch (InvalidDigestException e) {
            throw RegistryException.refused(e.getMessage(), ErrorCode.DIGEST_INVALID);
        }
    }

    private static ApiResponse unsupported(ApiRequest req) {
        return ApiErrors.of(405, ErrorCode.UNSUPPORTED, "this registry is a read-only mirror: "
                + req.method() + " is not supported").header("Allow", "GET, HEAD");
    }

    private ApiResponse manifest(ApiRequest req, Target target, String reference) throws IOException {
        if (reference.contains(":")) {
            digest(reference);
        } else if (!ReferenceGrammar.isTag(reference)) {
            return ApiErrors.of(400, ErrorCode.MANIFEST_INVALID, "invalid tag \"" + EchoedInput.of(reference) + "\"");
        }
        PullThroughCache.ServedManifest m = cache.manifest(target, reference);
        List<String> accept = req.headerValues("Accept");
        if (!acceptable(accept, m.mediaType())) {
            return ApiErrors.of(404, ErrorCode.MANIFEST_UNKNOWN, "manifest " + m.digest() + " is "
                    + m.mediaType() + ", which the request does not accept");
        }
        ApiResponse r = req.isHead() ? ApiResponse.headOnly(200, m.mediaType(), m.bytes().length)
                : ApiResponse.bytes(200, m.mediaType(), m.bytes());
        return r.header("Docker-Content-Digest", m.digest().toString()).header("ETag", "\"" + m.digest() + "\"");
    }

    /** No Accept, a wildcard, or the type itself: the stored bytes are served as they are, never converted. */
    private static boolean acceptable(List<String> accept, String mediaType) {
        if (accept.isEmpty()) {
            return true;
        }
        for (String a : accept) {
            String t = a.contains(";") ? a.substring(0, a.indexOf(';')).trim() : a;
            if (t.equals("*/*") || t.equals("application/*") || t.equals(mediaType) || t.equals("application/json")) {
                return true;
            }
        }
        // A client that names only schema 2 types still gets an OCI manifest it can parse (as distribution does).
        return !MediaTypes.isIndex(mediaType) && accept.stream().anyMatch(MediaTypes::isImageManifest);
    }

    private ApiResponse blob(ApiRequest req, Target target, String ref) throws IOException {
        Digest digest = digest(ref);
        PullThroughCache.ServedBlob served = cache.blob(target, digest, req.isHead());
        long size = served.size();
        if (served instanceof PullThroughCache.Redirect redirect && !req.isHead()) {
            metrics.add(Meter.BLOB_BYTES_SERVED, size, "upstream");
            return ApiResponse.redirect(307, redirect.location()).header("Docker-Content-Digest", digest.toString());
        }
        Optional<ByteRange> range;
        try {
            range = parseRange(req.header("Range"), size);
        } catch (RangeNotSatisfiableException e) {
            return ApiErrors.of(416, ErrorCode.RANGE_INVALID, "range " + req.header("Range").orElse("")
                    + " not satisfiable for " + size + " bytes").header("Content-Range", "bytes */" + size);
        }
        if (redirectBlobs && served instanceof PullThroughCache.Stored && !req.isHead()) {
            Optional<URI> url = blobs.presignGet(digest, presignTtl);
            if (url.isPresent()) {
                metrics.add(Meter.BLOB_BYTES_SERVED, size, "store");
                return ApiResponse.redirect(307, url.get()).header("Docker-Content-Digest", digest.toString());
            }
        }
        long first = range.map(ByteRange::first).orElse(0L);
        long length = range.map(r -> r.lengthWithin(size)).orElse(size);
        int status = range.isPresent() ? 206 : 200;
        if (served instanceof PullThroughCache.Filling f && !req.isHead()) {
            if (range.isPresent()) {
                // Only the whole-blob stream may follow a fill: its last byte is withheld until the
                // blob matched its digest, so a client never sees a clean end of unverified bytes. A
                // range may end before the blob does, so it waits for the verified, stored blob.
                f.fill().await();
                served = new PullThroughCache.Stored(size);
            } else {
                // An upstream failure before the first byte is still answered with an error status.
                f.fill().awaitFirstBytes();
            }
        }
        ApiResponse r;
        if (req.isHead()) {
            r = ApiResponse.headOnly(status, "application/octet-stream", length);
        } else if (served instanceof PullThroughCache.Filling f) {
            // Once these headers are sent, a failure of the fill can only abort the transfer: the
            // stream fails, the carrier drops the connection, the client sees a short body.
            r = ApiResponse.stream(status, "application/octet-stream", f.fill().open(first, length), length);
            metrics.add(Meter.BLOB_BYTES_SERVED, length, "upstream");
        } else {
            Optional<BlobStore.Content> content = blobs.open(digest, range.orElse(ByteRange.ALL));
            if (content.isEmpty()) {
                return ApiErrors.of(404, ErrorCode.BLOB_UNKNOWN, "blob " + digest + " is not stored");
            }
            r = ApiResponse.stream(status, "application/octet-stream", content.get().stream(), content.get().length());
            metrics.add(Meter.BLOB_BYTES_SERVED, content.get().length(), "store");
        }
        if (range.isPresent()) {
            r.header("Content-Range", "bytes " + first + "-" + (first + length - 1) + "/" + size);
        }
        return r.header("Accept-Ranges", "bytes").header("Docker-Content-Digest", digest.toString())
                .header("ETag", "\"" + digest + "\"");
    }

    /**
     * {@code bytes=a-b}, {@code bytes=a-} or {@code bytes=-n}, as RFC 9110 section 14 reads them: a
     * header that does not parse (another unit, several ranges, {@code b < a}) is ignored and the
     * whole blob is served; a range that starts at or past the end is unsatisfiable (416). Numbers
     * of any length are accepted: one too large for a {@code long} is past any blob's end.
     *
     * @throws RangeNotSatisfiableException when no byte of the blob is in the range
     */
    static Optional<ByteRange> parseRange(Optional<String> header, long size) {
        if (header.isEmpty()) {
            return Optional.empty();
        }
        Matcher m = RANGE.matcher(header.get().trim());
        if (!m.matches() || (m.group(1).isEmpty() && m.group(2).isEmpty())) {
            return Optional.empty();
        }
        if (m.group(1).isEmpty()) {
            long suffix = decimal(m.group(2));
            if (suffix == 0 || size == 0) {
                throw new RangeNotSatisfiableException(ByteRange.from(size), size);
            }
            return Optional.of(ByteRange.of(Math.max(0, size - suffix), size - 1));
        }
        long first = decimal(m.group(1));
        long last = m.group(2).isEmpty() ? Long.MAX_VALUE : decimal(m.group(2));
        if (last < first) {
            return Optional.empty(); // an invalid range-spec: the header is ignored
        }
        if (first >= size) {
            throw new RangeNotSatisfiableException(ByteRange.from(first), size);
        }
        return Optional.of(ByteRange.of(first, Math.min(last, size - 1)));
    }

    /** A run of digits as a number; one beyond {@code Long.MAX_VALUE} saturates (it is past any end). */
    private static long decimal(String digits) {
        int i = 0;
        while (i < digits.length() - 1 && digits.charAt(i) == '0') {
            i++;
        }
        String d = digits.substring(i);
        return d.length() > 18 ? Long.MAX_VALUE : Long.parseLong(d);
    }

    private ApiResponse tags(ApiRequest req, Target target, String name) throws IOException {
        List<String> all;
        try {
            all = cache.tags(target);
        } catch (RegistryException e) {
            if (e.status() == 404 || e.hasCode(ErrorCode.NAME_UNKNOWN)) {
                return ApiErrors.of(404, ErrorCode.NAME_UNKNOWN, "repository " + name + " is not known");
            }
            throw e;
        }
        Paged p = page(req, all);
        if (p == null) {
            return ApiErrors.of(400, ErrorCode.UNKNOWN, "n must be a non-negative number");
        }
        ObjectNode o = JSON.createObjectNode();
        o.put("name", name);
        ArrayNode arr = o.putArray("tags");
        p.items.forEach(arr::add);
        ApiResponse r = ApiResponse.json(200, o.toString());
        if (p.more) {
            r.header("Link", "</v2/" + name + "/tags/list?n=" + p.n + "&last=" + enc(p.items.get(p.items.size() - 1))
                    + ns(req) + ">; rel=\"next\"");
        }
        return r;
    }

    private ApiResponse catalog(ApiRequest req) {
        List<String> names = cache.repositories().stream().map(router::clientName).sorted().toList();
        Paged p = page(req, names);
        if (p == null) {
            return ApiErrors.of(400, ErrorCode.UNKNOWN, "n must be a non-negative number");
        }
        ObjectNode o = JSON.createObjectNode();
        ArrayNode arr = o.putArray("repositories");
        p.items.forEach(arr::add);
        ApiResponse r = ApiResponse.json(200, o.toString());
        if (p.more) {
            r.header("Link", "</v2/_catalog?n=" + p.n + "&last=" + enc(p.items.get(p.items.size() - 1)) + ">; rel=\"next\"");
        }
        return r;
    }

    private record Paged(List<String> items, boolean more, int n) {
    }

    /** Applies {@code last} (strictly after) and {@code n} to a sorted list; null for a bad {@code n}. */
    private static Paged page(ApiRequest req, List<String> sorted) {
        Optional<String> last = req.queryParam("last");
        List<String> after = last.isPresent() ? sorted.stream().filter(s -> s.compareTo(last.get()) > 0).toList() : sorted;
        int n = DEFAULT_PAGE;
        Optional<String> nParam = req.queryParam("n");
        if (nParam.isPresent() && !nParam.get().isEmpty()) {
            try {
                n = Integer.parseInt(nParam.get());
            } catch (NumberFormatException e) {
                return null;
            }
            if (n < 0) {
                return null;
            }
        }
        if (after.size() > n) {
            return new Paged(after.subList(0, n), n > 0, n);
        }
        return new Paged(after, false, n);
    }

    private ApiResponse referrers(ApiRequest req, Target target, String ref) throws IOException {
        Digest digest = digest(ref);
        Optional<String> artifactType = req.queryParam("artifactType");
        ObjectNode index = JSON.createObjectNode();
        index.put("schemaVersion", 2);
        index.put("mediaType", MediaTypes.OCI_INDEX);
        ArrayNode arr = index.putArray("manifests");
        for (Descriptor d : cache.referrers(target, digest)) {
            if (artifactType.isPresent() && !artifactType.get().equals(d.artifactType())) {
                continue;
            }
            ObjectNode e = arr.addObject();
            e.put("mediaType", d.mediaType());
            e.put("digest", d.digest().toString());
            e.put("size", d.size());
            if (d.artifactType() != null) {
                e.put("artifactType", d.artifactType());
            }
            if (!d.annotations().isEmpty()) {
                ObjectNode a = e.putObject("annotations");
                d.annotations().forEach(a::put);
            }
        }
        ApiResponse r = ApiResponse.bytes(200, MediaTypes.OCI_INDEX, index.toString().getBytes(StandardCharsets.UTF_8));
        if (artifactType.isPresent()) {
            r.header("OCI-Filters-Applied", "artifactType");
        }
        return r;
    }

    private static ApiResponse error(RegistryException e) {
        List<OciError> errors = e.errors();
        ErrorCode code = errors.isEmpty() ? ErrorCode.UNKNOWN : errors.get(0).code();
        if (code == ErrorCode.UNAUTHORIZED) {
            // Upstream refused our credentials (or has none for us): to a client of the mirror this is
            // a repository it cannot have, not a challenge it could answer.
            return ApiResponse.json(404, OciError.toJson(List.of(OciError.of(ErrorCode.NAME_UNKNOWN,
                    "repository does not exist upstream or needs credentials the mirror is not configured with"))));
        }
        int status = upstreamTroubleStatus(e);
        if (status == 0) {
            status = code != ErrorCode.UNKNOWN ? code.httpStatus() : e.status();
        }
        // Our own refusals carry only the code's stock text in the error list; their message says why.
        String message = errors.isEmpty() || errors.get(0).message() == null
                || errors.get(0).message().equals(code.defaultMessage()) ? e.getMessage() : errors.get(0).message();
        if (status >= 502) {
            message = "upstream unavailable and nothing stored: " + e.getMessage();
        }
        ApiResponse r = ApiResponse.json(status, OciError.toJson(List.of(OciError.of(code, message))));
        if (status == 503 && e.retryAfter().isPresent()) {
            r.header("Retry-After", Long.toString(Math.max(1, e.retryAfter().get().toSeconds())));
        }
        return r;
    }

    /**
     * The status for trouble on upstream's side, or 0 when the failure is an answer to pass on (404,
     * a refusal): 503 when upstream was busy or throttling us (with its {@code Retry-After}), 504
     * when it did not answer in time, 502 for anything else it did wrong.
     */
    private static int upstreamTroubleStatus(RegistryException e) {
        if (e.hasCode(ErrorCode.RANGE_INVALID)) {
            return 502; // upstream answered our resume with the wrong range
        }
        if (e.status() == 429 || e.status() == 503 || e.hasCode(ErrorCode.TOOMANYREQUESTS)) {
            return 503;
        }
        if (e.status() == 0 && e.isRetryable()) {
            for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
                if (c instanceof java.net.SocketTimeoutException || c instanceof java.io.InterruptedIOException) {
                    return 504;
                }
            }
            return 502; // unreachable, reset, cut short after every resume
        }
        if (e.status() >= 500 || (e.status() == 0 && e.hasCode(ErrorCode.UNKNOWN))) {
            return 502;
        }
        return 0;
    }

    private static String ns(ApiRequest req) {
        return req.queryParam("ns").map(v -> "&ns=" + enc(v)).orElse("");
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
