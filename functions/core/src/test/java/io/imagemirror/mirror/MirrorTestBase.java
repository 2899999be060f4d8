package io.imagemirror.mirror;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.config.MirrorConfig;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.Platform;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.store.BlobStore;
import io.imagemirror.store.ChildManifest;
import io.imagemirror.store.InMemoryBlobStore;
import io.imagemirror.store.InMemoryIndex;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.Storage;
import io.imagemirror.store.TagEvent;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import io.imagemirror.testbed.TestIndex;
import io.imagemirror.upstream.CredentialStore;
import io.imagemirror.upstream.RegistryClient;
import io.imagemirror.upstream.Upstreams;
import io.imagemirror.upstream.RetryPolicy;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real upstream (Debian's docker-registry), the in-memory stores and an engine over them. */
public abstract class MirrorTestBase {

    @TempDir
    protected Path tmp;

    protected LocalRegistry upstream;
    protected UpstreamRequestCounter requests;
    protected InMemoryBlobStore blobs;
    protected InMemoryBlobStore manifests;
    protected InMemoryIndex metadata;
    protected Storage storage;
    protected Upstreams upstreams;
    protected ExecutorService pool;
    protected ImageMirror mirror;

    @BeforeEach
    protected void setUp() {
        upstream = LocalRegistry.start(tmp);
        requests = new UpstreamRequestCounter();
        OkHttpClient http = RegistryClient.defaultHttpClient().newBuilder().addNetworkInterceptor(requests).build();
        MirrorConfig config = MirrorConfig.defaults().withUpstream(new MirrorConfig.UpstreamConfig(
                upstream.hostPort(), URI.create(upstream.url().toString()), true, null, null, null, Set.of()));
        blobs = new InMemoryBlobStore();
        manifests = new InMemoryBlobStore();
        metadata = new InMemoryIndex(Clock.systemUTC());
        storage = Storage.of(blobs, manifests, metadata, List.of());
        pool = Executors.newFixedThreadPool(4);
        upstreams = new Upstreams(config.toUpstreamList(), CredentialStore.none(), http, Clock.systemUTC(),
                RetryPolicy.defaults());
        mirror = new ImageMirror(upstreams, storage, pool, Clock.systemUTC());
    }

    @AfterEach
    protected void tearDown() {
        pool.shutdownNow();
        upstream.close();
    }

    protected ImageReference ref(String repoAndTag) {
        return ImageReference.parse(upstream.hostPort() + "/" + repoAndTag);
    }

    protected String repoKey(String repo) {
        return upstream.hostPort() + "/" + repo;
    }

    long storedBytes(InMemoryBlobStore store) {
        return store.list(1000, null).items().stream().mapToLong(BlobStore.Info::size).sum();
    }

}
