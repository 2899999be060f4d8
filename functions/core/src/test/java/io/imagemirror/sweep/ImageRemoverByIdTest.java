package io.imagemirror.sweep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.cache.NameRouter;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.listing.ImageListing;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.MediaTypes;
import io.imagemirror.store.BlobRef;
import io.imagemirror.store.InMemoryBlobStore;
import io.imagemirror.store.InMemoryIndex;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.Storage;
import io.imagemirror.store.TickingClock;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code rm SHORT-ID}: an image by its ID as {@code images} shows it, or a unique prefix. */
class ImageRemoverByIdTest {
    private static final String APP = "docker.io/library/app";
    private static final String WEB = "docker.io/library/web";

    private TickingClock clock;
    private InMemoryIndex index;
    private ImageRemover remover;
    private ImageListing listing;
    private final NameRouter names = new NameRouter(MirrorConfig.defaults());

    @BeforeEach
    void setUp() {
        clock = new TickingClock();
        index = new InMemoryIndex(clock);
        Storage storage = Storage.of(new InMemoryBlobStore(clock), new InMemoryBlobStore(clock), index, List.of());
        remover = new ImageRemover(storage, clock);
        listing = new ImageListing(index, index, names);
    }

    private static Digest digest(String s) {
        return Digest.sha256(s.getBytes(StandardCharsets.UTF_8));
    }

    /** A recorded image whose IMAGE ID is the digest of {@code config}. */
    private ManifestRecord image(String repo, String config, String name) {
        Digest c = digest(config);
        ManifestRecord m = new ManifestRecord(repo, digest("manifest " + repo + name), MediaTypes.OCI_MANIFEST, 300,
                c, List.of(new BlobRef(c, 10), new BlobRef(digest("layer " + name), 20)), List.of(), null, null, null,
                Map.of(), clock.instant(), null, 0);
        index.putManifest(m);
        return m;
    }

    @Test
    void theShortIdOfAnImageWithOneTagUntagsAndDeletesIt() {
        ManifestRecord m = image(APP, "cfg-one", "one");
        index.setTag(APP, "1", null, m.digest(), "cli");
        String shortId = m.configDigest().hex().substring(0, 12);
        ImageRemover.Outcome o = remover.remove(shortId, false, names, listing);
        assertThat(o.untagged()).containsExactly(APP + ":1");
        assertThat(o.deleted()).containsExactly(APP + "@" + m.digest());
        assertThat(index.getManifest(APP, m.digest())).isEmpty();
        assertThatThrownBy(() -> remover.remove(shortId, false, names, listing))
                .isInstanceOf(ImageRemover.NotFoundException.class).hasMessageContaining("No such image: " + shortId);
    }

    @Test
    void anIdReferencedInSeveralRepositoriesNeedsForceAndAnAmbiguousPrefixNamesTheCandidates() {
        ManifestRecord a = image(APP, "cfg-shared", "a");
        ManifestRecord w = image(WEB, "cfg-shared", "w");
        index.setTag(APP, "1", null, a.digest(), "cli");
        index.setTag(WEB, "1", null, w.digest(), "cli");
        String id = a.configDigest().hex();
        assertThatThrownBy(() -> remover.remove(id.substring(0, 12), false, names, listing))
                .isInstanceOf(ImageRemover.RefusedException.class).hasMessageContaining("must be forced")
                .hasMessageContaining("app:1").hasMessageContaining("web:1");
        assertThat(index.getManifest(APP, a.digest())).isPresent();

        // two configs whose IDs share their first 4 hex digits
        Map<String, String> byPrefix = new HashMap<>();
        String[] pair = null;
        for (int i = 0; pair == null; i++) {
            String cfg = "cfg-" + i;
            String p = digest(cfg).hex().substring(0, 4);
            String before = byPrefix.putIfAbsent(p, cfg);
            if (before != null) {
                pair = new String[] {before, cfg};
            }
        }
        ManifestRecord x = image(APP, pair[0], "x");
        ManifestRecord y = image(APP, pair[1], "y");
        index.setTag(APP, "x", null, x.digest(), "cli");
        String prefix = x.configDigest().hex().substring(0, 4);
        assertThatThrownBy(() -> remover.remove(prefix, true, names, listing))
                .isInstanceOf(ImageRemover.RefusedException.class)
                .hasMessageContaining("ambiguous image ID " + prefix)
                .hasMessageContaining(x.configDigest().hex().substring(0, 12) + "  app:x")
                .hasMessageContaining(y.configDigest().hex().substring(0, 12) + "  app");
        assertThat(index.getManifest(APP, x.digest())).isPresent();
        assertThat(index.getManifest(APP, y.digest())).isPresent();

        ImageRemover.Outcome forced = remover.remove(id.substring(0, 12), true, names, listing);
        assertThat(forced.untagged()).containsExactlyInAnyOrder(APP + ":1", WEB + ":1");
        assertThat(forced.deleted()).containsExactlyInAnyOrder(APP + "@" + a.digest(), WEB + "@" + w.digest());
    }

    @Test
    void aHexNameThatIsATaggedRepositoryIsTakenAsTheReference() {
        ManifestRecord m = image("docker.io/library/cafe1234", "cfg-cafe", "c");
        index.setTag("docker.io/library/cafe1234", "latest", null, m.digest(), "cli");
        ImageRemover.Outcome o = remover.remove("cafe1234", false, names, listing);
        assertThat(o.untagged()).containsExactly("docker.io/library/cafe1234:latest");
        assertThat(o.deleted()).isEmpty();
    }
}
