package io.imagemirror.aws.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import io.imagemirror.aws.AwsFixture;
import io.imagemirror.aws.AwsWiring;
import io.imagemirror.mirror.UpstreamRequestCounter;
import io.imagemirror.upstream.RegistryClient;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.crac.Context;
import org.crac.Core;
import org.crac.Resource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The SnapStart priming of each handler runs its requests against s3proxy + dynoxide + ElasticMQ
 * when a checkpoint comes, writes nothing, sends nothing to the queue and contacts no upstream;
 * registering it on a JVM without CRaC is harmless.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SnapStartPrimingTest {

    AwsFixture aws;
    AwsWiring wiring;
    UpstreamRequestCounter upstream;

    @BeforeAll
    void start() throws Exception {
        aws = new AwsFixture("priming");
        upstream = new UpstreamRequestCounter();
        // An upstream nobody listens on: any request to it would be counted, then fail.
        String config = "{\"upstreams\": [{\"name\": \"docker.io\", \"endpoint\": \"http://127.0.0.1:9\", \"insecure\": true}]}";
        wiring = AwsWiring.fromEnvironment(aws.functionEnv(config),
                RegistryClient.defaultHttpClient().newBuilder().addNetworkInterceptor(upstream).build(), Clock.systemUTC());
    }

    @AfterAll
    void stop() {
        if (wiring != null) {
            wiring.close();
        }
        if (aws != null) {
            aws.close();
        }
    }

    /** A checkpoint as CRaC runs one: every registered resource's beforeCheckpoint, in order. */
    static final class RecordingContext extends Context<Resource> {
        final List<Resource> resources = new ArrayList<>();

        @Override
        public void register(Resource resource) {
            resources.add(resource);
        }

        @Override
        public void beforeCheckpoint(Context<? extends Resource> context) throws org.crac.CheckpointException {
            for (Resource r : resources) {
                try {
                    r.beforeCheckpoint(this);
                } catch (Exception e) {
                    throw new AssertionError("beforeCheckpoint threw", e);
                }
            }
        }

        @Override
        public void afterRestore(Context<? extends Resource> context) {
            for (Resource r : resources) {
                try {
                    r.afterRestore(this);
                } catch (Exception e) {
                    throw new AssertionError("afterRestore threw", e);
                }
            }
        }
    }

    @Test
    void aCheckpointPrimesEveryHandlerWithoutSideEffects() throws Exception {
        RecordingContext context = new RecordingContext();
        SnapStartPriming registry = SnapStartPriming.forRegistry(new RegistryHandler(wiring.registryApi()), wiring.storage())
                .register(context);
        SnapStartPriming api = SnapStartPriming.forMirrorApi(new MirrorApiHandler(wiring.jobs(), wiring.names(), wiring.rules(), wiring.storage())).register(context);
        SnapStartPriming worker = SnapStartPriming.forCopyWorker(new CopyWorkerHandler(wiring.jobs())).register(context);
        assertThat(context.resources).containsExactly(registry, api, worker);
        assertThat(SnapStartPriming.registered()).contains(registry, api, worker);
        assertThat(registry.lastOutcomes()).isEmpty();
        int itemsBefore = aws.dynamo.scan(b -> b.tableName(aws.table)).count(); // the table's schema version

        context.beforeCheckpoint(null);
        context.afterRestore(null);

        assertThat(registry.lastOutcomes()).containsExactly("GET /v2/ 200", "GET /v2/_catalog 200", "presign true",
                "blob exists false");
        assertThat(api.lastOutcomes()).containsExactly("GET /v1/jobs 404", "POST /v1/mirror 400");
        assertThat(worker.lastOutcomes()).containsExactly("SQS failures 0");
        assertThat(upstream.seen).isEmpty();
        assertThat(aws.keys("")).isEmpty();
        assertThat(aws.dynamo.scan(b -> b.tableName(aws.table)).count()).isEqualTo(itemsBefore);
        assertThat(aws.sqs.receiveMessage(b -> b.queueUrl(aws.queueUrl).waitTimeSeconds(0)).messages()).isEmpty();
    }

    @Test
    void aFailingPrimingIsSwallowed() {
        RegistryHandler broken = new RegistryHandler(request -> {
            throw new IllegalStateException("no storage");
        });
        // The handler answers 500 for a throwing API; a storage that fails outright fails the priming, which must not throw.
        SnapStartPriming priming = SnapStartPriming.forRegistry(broken, null);
        assertThat(priming.prime()).isFalse();
    }

    @Test
    void registeringWithTheGlobalContextOfAJvmWithoutCracIsHarmless() {
        SnapStartPriming priming = SnapStartPriming.forCopyWorker(new CopyWorkerHandler(wiring.jobs()));
        assertThat(priming.register()).isSameAs(priming);
        assertThat(SnapStartPriming.registered()).contains(priming);
        assertThat(Core.getGlobalContext()).isNotNull();
    }
}
