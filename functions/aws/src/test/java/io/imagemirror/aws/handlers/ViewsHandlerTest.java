package io.imagemirror.aws.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.imagemirror.aws.AwsFixture;
import io.imagemirror.aws.AwsWithUpstream;
import io.imagemirror.aws.AwsWiring;
import io.imagemirror.mirror.MirrorListener;
import io.imagemirror.mirror.MirrorRequest;
import io.imagemirror.mirror.UpstreamRequestCounter;
import io.imagemirror.oci.Platform;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.store.Cause;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import io.imagemirror.testbed.TestIndex;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The /v1 views through the MirrorApi Lambda handler, over s3proxy + dynoxide, fed the sample
 * events in {@code events/} (and variations of them) through Lambda's own event serialization: the
 * seed's story mirrored from a real docker-registry playing Docker Hub.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ViewsHandlerTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;

    LocalRegistry upstream;
    AwsFixture aws;
    AwsWiring wiring;
    AwsWithUpstream env;
    MirrorApiHandler api;
    TestImage golf1;
    TestImage golf2;
    TestImage golf3;
    TestImage web1;
    TestImage arm;
    TestIndex multi;

    void mirror(String ref, Platform... platforms) throws Exception {
        wiring.mirror().mirror(MirrorRequest.of(ImageReference.parseNormalized(ref), Cause.API).withPlatforms(List.of(platforms)),
                MirrorListener.NONE);
    }

    @BeforeAll
    void start() throws Exception {
        env = AwsWithUpstream.start(tmp, "views", null, new UpstreamRequestCounter());
        upstream = env.upstream();
        aws = env.aws();
        wiring = env.wiring();
        api = new MirrorApiHandler(wiring.jobs(), wiring.names(), wiring.rules(), wiring.storage());
        golf1 = TestImage.builder(201).layer(4000).build();
        golf2 = TestImage.builder(202).layer(5000).build();
        golf3 = TestImage.builder(203).layer(6000).build();
        for (TestImage g : List.of(golf1, golf2, golf3)) {
            upstream.pusher().pushImage("library/golftrack", "1.5", g);
            mirror("golftrack:1.5");
        }
        web1 = TestImage.builder(211).layer(1000).label("team", "a").build();
        upstream.pusher().pushImage("library/app-web", "1", web1);
        upstream.pusher().pushImage("library/app-web", "12", TestImage.builder(212).label("team", "b").build());
        upstream.pusher().pushImage("library/app-db", "1", TestImage.builder(213).build());
        mirror("app-web:1");
        mirror("app-web:12");
        mirror("app-db:1");
        TestImage amd = TestImage.builder(221).layer(7000).build();
        arm = TestImage.builder(222).platform("linux", "arm64", "v8").layer(8000).build();
        multi = TestIndex.of(TestImage.Format.DOCKER, List.of(amd, arm), false);
        upstream.pusher().pushIndex("library/multi", "1", multi);
        upstream.pusher().pushIndex("library/multi-arm", "1", multi);
        mirror("multi:1");
        mirror("multi-arm:1", Platform.parse("linux/arm64"));
    }

    @AfterAll
    void stop() {
        if (env != null) {
            env.close();
        }
    }

    APIGatewayV2HTTPResponse call(String file) {
        return api.handleRequest(AwsFixture.event(file, APIGatewayV2HTTPEvent.class), null);
    }

    /** A sample event with another path and query. */
    APIGatewayV2HTTPResponse get(String file, String path, String query) throws Exception {
        ObjectNode e = (ObjectNode) JSON.readTree(AwsFixture.eventJson(file));
        e.put("rawPath", path);
        e.put("rawQueryString", query);
        ((ObjectNode) e.get("requestContext").get("http")).put("path", path);
        e.remove("queryStringParameters");
        return api.handleRequest(AwsFixture.eventFromJson(e.toString(), APIGatewayV2HTTPEvent.class), null);
    }

    List<String> refs(APIGatewayV2HTTPResponse r) throws Exception {
        assertThat(r.getStatusCode()).as(r.getBody()).isEqualTo(200);
        List<String> out = new ArrayList<>();
        JSON.readTree(r.getBody()).get("images").forEach(i -> out.add(i.get("repository").asText() + ":"
                + (i.get("tag").isNull() ? "<none>" : i.get("tag").asText())));
        return out;
    }

    @Test
    void theSampleEventsAnswer() throws Exception {
        APIGatewayV2HTTPResponse dangling = call("images-list.json");
        assertThat(dangling.getStatusCode()).as(dangling.getBody()).isEqualTo(200);
        List<String> digests = new ArrayList<>();
        JSON.readTree(dangling.getBody()).get("images").forEach(i -> digests.add(i.get("digest").asText()));
        assertThat(digests).containsExactlyInAnyOrder(golf1.digest(), golf2.digest());

        JsonNode inspect = JSON.readTree(call("image-inspect.json").getBody());
        assertThat(inspect.get("digest").asText()).isEqualTo(golf3.digest());
        assertThat(inspect.get("id").asText()).isEqualTo(golf3.config().digest());

        JsonNode history = JSON.readTree(call("image-history.json").getBody()).get("history");
        assertThat(history).hasSize(3);
        assertThat(history.get(0).get("to").asText()).isEqualTo(golf3.digest());
        assertThat(history.get(0).get("from").asText()).isEqualTo(golf2.digest());
        assertThat(history.get(2).get("from").isNull()).isTrue();
        assertThat(history).allSatisfy(h -> assertThat(h.get("cause").asText()).isEqualTo("api"));

        JsonNode search = JSON.readTree(call("search.json").getBody());
        assertThat(search.at("/results/0/name").asText()).isEqualTo("golftrack");
        assertThat(search.at("/results/0/official").asBoolean()).isTrue();

        JsonNode df = JSON.readTree(call("df.json").getBody());
        assertThat(df.get("tags").asLong()).isEqualTo(6);
        assertThat(df.get("dangling").asLong()).isEqualTo(2);
    }

    @Test
    void theCliAssertionsHoldOverTheLambda() throws Exception {
        assertThat(refs(get("images-list.json", "/v1/images", ""))).containsExactly("app-db:1", "app-web:1",
                "app-web:12", "golftrack:1.5", "multi:1", "multi-arm:1");
        assertThat(refs(get("images-list.json", "/v1/images", "filter=before%3Dapp-web:12")))
                .containsExactly("app-web:1", "golftrack:1.5");
        assertThat(refs(get("images-list.json", "/v1/images", "filter=since%3Dapp-web:12")))
                .containsExactly("app-db:1", "multi:1", "multi-arm:1");
        assertThat(refs(get("images-list.json", "/v1/images", "filter=label%3Dteam%3Da"))).containsExactly("app-web:1");
        assertThat(refs(get("images-list.json", "/v1/images", "filter=reference%3Dapp-*:1")))
                .containsExactly("app-db:1", "app-web:1");
        assertThat(refs(get("images-list.json", "/v1/images", "all=true&filter=reference%3Dgolf*")))
                .containsExactly("golftrack:1.5");
        assertThat(refs(get("images-list.json", "/v1/images", "all=true"))).hasSize(8);

        // n/last paging with Link, as the registry API pages
        List<String> paged = new ArrayList<>();
        String query = "n=4";
        for (int page = 0; page < 5 && query != null; page++) {
            APIGatewayV2HTTPResponse r = get("images-list.json", "/v1/images", query);
            paged.addAll(refs(r));
            String link = r.getHeaders() == null ? null : r.getHeaders().get("Link");
            query = link == null ? null : link.substring(link.indexOf('?') + 1, link.indexOf('>'));
        }
        assertThat(paged).containsExactly("app-db:1", "app-web:1", "app-web:12", "golftrack:1.5", "multi:1",
                "multi-arm:1");

        JsonNode web = JSON.readTree(get("image-inspect.json", "/v1/images/app-web:1", "").getBody());
        assertThat(web.get("id").asText()).isEqualTo(web1.config().digest());
        assertThat(web.get("size").asLong()).isEqualTo(web1.config().size() + web1.layers().get(0).size());
        JsonNode whole = JSON.readTree(get("image-inspect.json", "/v1/images/multi:1", "").getBody());
        assertThat(whole.get("platforms")).hasSize(2).allSatisfy(p -> assertThat(p.get("stored").asBoolean()).isTrue());
        JsonNode filtered = JSON.readTree(get("image-inspect.json", "/v1/images/multi-arm:1", "").getBody());
        assertThat(filtered.at("/platforms/0/platform").asText()).isEqualTo("linux/amd64");
        assertThat(filtered.at("/platforms/0/stored").asBoolean()).isFalse();
        assertThat(filtered.at("/platforms/1/stored").asBoolean()).isTrue();
        assertThat(filtered.get("size").asLong()).isEqualTo(arm.config().size() + arm.layers().get(0).size());
    }

    @Test
    void badFiltersAnswer400NamingThem() throws Exception {
        APIGatewayV2HTTPResponse name = get("images-list.json", "/v1/images", "filter=colour%3Dred");
        assertThat(name.getStatusCode()).isEqualTo(400);
        assertThat(JSON.readTree(name.getBody()).at("/errors/0/message").asText()).contains("'colour'");
        APIGatewayV2HTTPResponse value = get("images-list.json", "/v1/images", "filter=dangling%3Dmaybe");
        assertThat(value.getStatusCode()).isEqualTo(400);
        assertThat(value.getBody()).contains("dangling=maybe");
        APIGatewayV2HTTPResponse missing = get("image-inspect.json", "/v1/images/absent:1", "");
        assertThat(missing.getStatusCode()).isEqualTo(404);
    }
}
