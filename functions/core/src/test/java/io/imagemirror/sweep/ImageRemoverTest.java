package io.imagemirror.sweep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.mirror.MirrorListener;
import io.imagemirror.mirror.MirrorRequest;
import io.imagemirror.mirror.MirrorTestBase;
import io.imagemirror.oci.Digest;
import io.imagemirror.store.Cause;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.store.TagEvent;
import io.imagemirror.testbed.TestImage;
import io.imagemirror.testbed.TestIndex;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code rm} with docker's semantics, over the in-memory store and a real upstream. */
class ImageRemoverTest extends MirrorTestBase {

    private ImageRemover remover() {
        return new ImageRemover(storage, Clock.systemUTC());
    }

    private ImageReference byDigest(String repo, String digest) {
        return ImageReference.parse(upstream.hostPort() + "/" + repo + "@" + digest);
    }

    @Test
    void aTagUntagsWithHistoryAndADigestStillTaggedIsRefusedUnlessForced() throws Exception {
        TestImage img = TestImage.builder(80).layer(2_000).build();
        upstream.pusher().pushImage("rm/app", "1", img);
        upstream.pusher().pushImage("rm/app", "2", img);
        mirror.mirror(MirrorRequest.of(ref("rm/app:1"), Cause.CLI), MirrorListener.NONE);
        mirror.mirror(MirrorRequest.of(ref("rm/app:2"), Cause.CLI), MirrorListener.NONE);
        String repo = repoKey("rm/app");

        ImageRemover.Outcome untag = remover().remove(ref("rm/app:1"), false);
        assertThat(untag.untagged()).containsExactly(repo + ":1");
        assertThat(untag.deleted()).isEmpty();
        assertThat(metadata.tagHistory(repo, "1", 10, null).items()).first()
                .satisfies(e -> assertThat(e.cause()).isEqualTo("rm")).extracting(TagEvent::newDigest).isNull();

        assertThatThrownBy(() -> remover().remove(byDigest("rm/app", img.digest()), false))
                .isInstanceOf(ImageRemover.RefusedException.class).hasMessageContaining("must be forced")
                .hasMessageContaining(repo + ":2");
        assertThat(metadata.getManifest(repo, Digest.parse(img.digest()))).isPresent();

        ImageRemover.Outcome forced = remover().remove(byDigest("rm/app", img.digest()), true);
        assertThat(forced.untagged()).containsExactly(repo + ":2");
        assertThat(forced.deleted()).containsExactly(repo + "@" + img.digest());
        assertThat(metadata.getManifest(repo, Digest.parse(img.digest()))).isEmpty();
        assertThat(metadata.getTag(repo, "2")).isEmpty();
        // Its blobs are now sweep candidates: the next sweep takes them.
        SweepReport swept = new Sweeper(storage, Clock.systemUTC()).run(Duration.ZERO, false, 10,
                Sweeper.Listener.NONE);
        assertThat(swept.blobsDeleted()).isEqualTo(img.blobs().size() + 1); // and the manifest's own bytes
        assertThat(manifests.exists(Digest.parse(img.digest()))).isFalse();

        assertThatThrownBy(() -> remover().remove(ref("rm/app:1"), false))
                .isInstanceOf(ImageRemover.NotFoundException.class).hasMessageContaining("No such image");
    }

    @Test
    void aDigestListedByAnIndexIsRefusedNamingTheIndexEvenForced() throws Exception {
        TestImage amd = TestImage.builder(81).layer(1_000).build();
        TestImage arm = TestImage.builder(82).platform("linux", "arm64", "v8").layer(1_100).build();
        TestIndex index = TestIndex.of(TestImage.Format.OCI, List.of(amd, arm), false);
        upstream.pusher().pushIndex("rm/multi", "1", index);
        mirror.mirror(MirrorRequest.of(ref("rm/multi:1"), Cause.CLI), MirrorListener.NONE);
        String repo = repoKey("rm/multi");
        for (boolean force : new boolean[] {false, true}) {
            assertThatThrownBy(() -> remover().remove(byDigest("rm/multi", arm.digest()), force))
                    .isInstanceOf(ImageRemover.RefusedException.class)
                    .hasMessageContaining("listed by index " + repo + "@" + index.digest());
        }
        assertThat(metadata.getManifest(repo, Digest.parse(arm.digest()))).isPresent();
        ImageRemover.Outcome o = remover().remove(byDigest("rm/multi", index.digest()), true);
        assertThat(o.deleted()).containsExactly(repo + "@" + index.digest());
        // The children dangle now; the next sweep takes them with their blobs.
        assertThat(new Sweeper(storage, Clock.systemUTC()).run(Duration.ZERO, false, 10, Sweeper.Listener.NONE)
                .manifestsDeleted()).isEqualTo(2);
    }
}
