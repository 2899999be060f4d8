package io.imagemirror.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.cache.NameRouter;
import io.imagemirror.cache.PullThroughCache;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.mirror.BlobFills;
import io.imagemirror.mirror.ImageMirror;
import io.imagemirror.oci.Digest;
import io.imagemirror.store.ByteRange;
import io.imagemirror.store.InMemoryBlobStore;
import io.imagemirror.store.InMemoryIndex;
import io.imagemirror.store.RangeNotSatisfiableException;
import io.imagemirror.store.Storage;
import io.imagemirror.upstream.CredentialStore;
import io.imagemirror.upstream.RegistryClient;
import io.imagemirror.upstream.RetryPolicy;
import io.imagemirror.upstream.Upstreams;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.LongRange;

/**
 * Hostile input on the read API, generated (issue 15 item 3): any {@code Range} header and any
 * request to {@code /v2} gets a 2xx/3xx/4xx OCI answer; the only 5xx are upstream trouble (the
 * upstream here is a port nothing listens on: 502).
 */
class DistributionApiPropertiesTest {

    static final byte[] BLOB = "a stored blob of some length, for ranges".getBytes(StandardCharsets.UTF_8);
    static final Digest STORED = Digest.sha256(BLOB);
    static final ObjectMapper JSON = new ObjectMapper();
    static final DistributionApi API = api();

    static DistributionApi api() {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort(); // free once closed: connections are refused
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        String upstream = "127.0.0.1:" + closedPort;
        MirrorConfig config = MirrorConfig.defaults().withUpstream(new MirrorConfig.UpstreamConfig(upstream,
                URI.create("http://" + upstream), true, null, null, null, Set.of())).withDefaultUpstream(upstream);
        InMemoryBlobStore blobs = new InMemoryBlobStore();
        InMemoryIndex metadata = new InMemoryIndex(Clock.systemUTC());
        try {
            blobs.put(STORED, BLOB.length, new ByteArrayInputStream(BLOB));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        Storage storage = Storage.of(blobs, new InMemoryBlobStore(), metadata, List.of());
        var background = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        });
        Upstreams ups = new Upstreams(config.toUpstreamList(), CredentialStore.none(), RegistryClient.defaultHttpClient(),
                Clock.systemUTC(), RetryPolicy.defaults().withMaxAttempts(1));
        BlobFills fills = new BlobFills(blobs, metadata, null, background);
        ImageMirror engine = new ImageMirror(ups, storage, background, Clock.systemUTC(), fills);
        PullThroughCache cache = new PullThroughCache(engine, ups, fills, storage, Duration.ofMinutes(5), background,
                Clock.systemUTC(), l -> { });
        return new DistributionApi(cache, blobs, new NameRouter(config), false, Duration.ofMinutes(10));
    }

    @Property(tries = 3000)
    void anyRangeHeaderIsARangeInsideTheBlobOrUnsatisfiableOrIgnored(@ForAll("ranges") String header,
                                                                   @ForAll @LongRange(min = 0, max = 1L << 40) long size) {
        Optional<ByteRange> r;
        try {
            r = DistributionApi.parseRange(Optional.of(header), size);
        } catch (RangeNotSatisfiableException e) {
            assertThat(e.size()).isEqualTo(size);
            return;
        }
        r.ifPresent(range -> {
            assertThat(range.first()).isBetween(0L, size - 1);
            assertThat(range.last()).isBetween(range.first(), size - 1);
            assertThat(range.lengthWithin(size)).isPositive();
        });
    }

    @Property(tries = 1500)
    void anyReadRequestGetsAnOciAnswerAndNo5xxButUpstreamTrouble(@ForAll("methods") String method,
                                                                  @ForAll("paths") String path,
                                                                  @ForAll("ranges") String range) throws Exception {
        Map<String, List<String>> headers = new HashMap<>();
        headers.put("Range", List.of(range));
        ApiResponse r;
        try {
            r = API.handle(ApiRequest.of(method, path, headers));
        } catch (IllegalArgumentException e) {
            // ApiRequest.of itself refuses nothing; a throw here would be a bug of the API
            throw new AssertionError(method + " " + path + " threw " + e, e);
        }
        try (r) {
            int s = r.status();
            assertThat(s).as(method + " " + path + " Range: " + range + " -> " + r.bodyText())
                    .satisfiesAnyOf(x -> assertThat(x).isBetween(200, 499), x -> assertThat(x).isIn(502, 503, 504));
            if (s >= 400) {
                JsonNode errors = JSON.readTree(r.bodyText()).get("errors");
                assertThat(errors.isArray()).isTrue();
                assertThat(errors.get(0).get("code").asText()).isNotBlank();
            }
            if (r.stream() != null) {
                try (InputStream in = r.stream()) {
                    assertThat(in.readAllBytes()).hasSize((int) r.length());
                }
            }
        }
    }

    @Provide
    Arbitrary<String> ranges() {
        Arbitrary<String> number = Arbitraries.oneOf(Arbitraries.longs().between(0, 100).map(String::valueOf),
                Arbitraries.longs().between(0, Long.MAX_VALUE).map(String::valueOf),
                Arbitraries.strings().numeric().ofMinLength(1).ofMaxLength(40),
                Arbitraries.just(""));
        Arbitrary<String> unit = Arbitraries.of("bytes=", "BYTES=", "bytes =", "items=", "bytes", "");
        Arbitrary<String> sep = Arbitraries.of("-", "--", ",", " - ", "");
        Arbitrary<String> built = Combinators.combine(unit, number, sep, number).as((u, a, s, b) -> u + a + s + b);
        return Arbitraries.oneOf(built, built.list().ofMaxSize(3).map(l -> String.join(",", l)),
                Arbitraries.strings().ofMaxLength(30));
    }

    @Provide
    Arbitrary<String> methods() {
        return Arbitraries.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "get");
    }

    @Provide
    Arbitrary<String> paths() {
        Arbitrary<String> segment = Arbitraries.oneOf(
                Arbitraries.of("library", "app", "a", "_catalog", "manifests", "blobs", "tags", "list", "referrers",
                        "latest", "1.0", "..", ".", "", "%", "%2F", "sha256:", "sha512:ab", "x:y", "UPPER", "-a"),
                Arbitraries.just(STORED.toString()),
                Arbitraries.strings().withCharRange('0', 'f').ofLength(64).map(h -> "sha256:" + h),
                Arbitraries.strings().ofMaxLength(12),
                Arbitraries.strings().alpha().numeric().withChars("._-:@").ofMaxLength(20));
        Arbitrary<String> query = Arbitraries.oneOf(Arbitraries.just(""),
                Combinators.combine(Arbitraries.of("n", "last", "ns", "artifactType", "digest"),
                        Arbitraries.strings().ofMaxLength(12)).as((k, v) -> "?" + k + "=" + v));
        return Combinators.combine(segment.list().ofMaxSize(6), query)
                .as((segments, q) -> "/v2/" + String.join("/", segments) + q);
    }
}
