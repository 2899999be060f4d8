package io.imagemirror.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.cache.NameRouter;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.listing.MirrorViews;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.MediaTypes;
import io.imagemirror.store.BlobRef;
import io.imagemirror.store.InMemoryIndex;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.Storage;
import io.imagemirror.store.TickingClock;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The /v1 views through {@link MirrorApi}: JSON, Link paging, 400 naming a bad filter, 404. */
class ImagesApiTest {

    final TickingClock clock = new TickingClock();
    final Storage storage = InMemoryIndex.storage(clock);
    final NameRouter names = new NameRouter(MirrorConfig.defaults());
    final MirrorApi api = new MirrorApi(null, names, new MirrorViews(storage, names));

    ApiResponse get(String pathAndQuery) throws Exception {
        return api.handle(ApiRequest.of("GET", pathAndQuery, Map.of()));
    }

    static JsonNode json(ApiResponse r) throws Exception {
        return new ObjectMapper().readTree(r.body());
    }

    void mirrored(String repo, String name, String tag) {
        Digest config = Digest.sha256(("config " + name).getBytes(StandardCharsets.UTF_8));
        ManifestRecord m = new ManifestRecord(repo, Digest.sha256(name.getBytes(StandardCharsets.UTF_8)),
                MediaTypes.OCI_MANIFEST, 10, config, List.of(new BlobRef(config, 7)), List.of(), null, null, null,
                Map.of("team", name), clock.instant(), null, 0);
        storage.manifestIndex().putManifest(m);
        storage.tagIndex().setTag(repo, tag, null, m.digest(), "api");
    }

    @Test
    void imagesPageWithLinkUntilTheEnd() throws Exception {
        for (int i = 0; i < 7; i++) {
            mirrored("docker.io/library/app" + (i % 3), "m" + i, "t" + i);
        }
        List<String> seen = new ArrayList<>();
        String next = "/v1/images?n=3&filter=label%3Dteam";
        int pages = 0;
        while (next != null) {
            ApiResponse r = get(next);
            assertThat(r.status()).as(r.bodyText()).isEqualTo(200);
            json(r).get("images").forEach(i -> seen.add(i.get("repository").asText() + ":" + i.get("tag").asText()));
            String link = r.header("Link");
            if (link == null) {
                next = null;
            } else {
                Matcher m = Pattern.compile("<([^>]+)>; rel=\"next\"").matcher(link);
                assertThat(m.matches()).as(link).isTrue();
                assertThat(m.group(1)).contains("filter=label%3Dteam").contains("n=3");
                next = m.group(1);
            }
            pages++;
        }
        assertThat(seen).hasSize(7).doesNotHaveDuplicates().contains("app0:t0", "app2:t5");
        assertThat(pages).isGreaterThanOrEqualTo(3);

        JsonNode one = json(get("/v1/images?filter=reference%3Dapp1:*&filter=label%3Dteam%3Dm4"));
        assertThat(one.get("images")).hasSize(1);
        assertThat(one.at("/images/0/tag").asText()).isEqualTo("t4");
        assertThat(one.at("/images/0/size").asLong()).isEqualTo(7);
    }

    @Test
    void inspectHistorySearchAndDf() throws Exception {
        mirrored("docker.io/library/alpine", "a", "3.20");
        mirrored("docker.io/team/alpine-tools", "b", "1");
        JsonNode inspect = json(get("/v1/images/alpine:3.20"));
        assertThat(inspect.get("digest").asText()).isEqualTo(Digest.sha256("a".getBytes(StandardCharsets.UTF_8)).toString());
        assertThat(inspect.get("tags").get(0).asText()).isEqualTo("3.20");
        JsonNode history = json(get("/v1/images/alpine:3.20/history"));
        assertThat(history.at("/history/0/cause").asText()).isEqualTo("api");
        assertThat(history.at("/history/0/from").isNull()).isTrue();
        JsonNode search = json(get("/v1/search?q=alpine"));
        assertThat(search.get("results")).hasSize(2);
        JsonNode official = json(get("/v1/search?q=alpine&filter=is-official%3Dtrue"));
        assertThat(official.get("results")).hasSize(1);
        assertThat(official.at("/results/0/name").asText()).isEqualTo("alpine");
        JsonNode df = json(get("/v1/df"));
        assertThat(df.get("images").asLong()).isEqualTo(2);
        assertThat(df.get("tags").asLong()).isEqualTo(2);
    }

    @Test
    void badFiltersAre400NamingThemAndUnknownImages404() throws Exception {
        ApiResponse badName = get("/v1/images?filter=colour%3Dred");
        assertThat(badName.status()).isEqualTo(400);
        assertThat(json(badName).at("/errors/0/message").asText()).contains("'colour'");
        ApiResponse badValue = get("/v1/images?filter=dangling%3Dmaybe");
        assertThat(badValue.status()).isEqualTo(400);
        assertThat(json(badValue).at("/errors/0/message").asText()).contains("dangling=maybe");
        ApiResponse badBefore = get("/v1/images?filter=before%3Dnope:1");
        assertThat(badBefore.status()).isEqualTo(400);
        assertThat(json(badBefore).at("/errors/0/message").asText()).contains("no such image: nope:1");
        ApiResponse stars = get("/v1/search?q=x&filter=stars%3D3");
        assertThat(stars.status()).isEqualTo(400);
        assertThat(json(stars).at("/errors/0/message").asText()).contains("stars");
        assertThat(get("/v1/images?n=0").status()).isEqualTo(400);
        assertThat(get("/v1/images?last=garbage").status()).isEqualTo(400);
        ApiResponse badRef = get("/v1/images/Bad:Ref");
        assertThat(badRef.status()).isEqualTo(400);
        assertThat(json(badRef).at("/errors/0/code").asText()).isEqualTo("NAME_INVALID");
        ApiResponse missing = get("/v1/images/absent:1");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(json(missing).at("/errors/0/code").asText()).isEqualTo("MANIFEST_UNKNOWN");
        assertThat(json(missing).at("/errors/0/message").asText()).contains("absent:1");
        assertThat(api.handle(ApiRequest.of("POST", "/v1/df", Map.of())).status()).isNotEqualTo(200);
    }
}
