package io.imagemirror.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.oci.Digest;
import io.imagemirror.oci.MediaTypes;
import io.imagemirror.store.ManifestReferences.Change;
import io.imagemirror.store.ManifestReferences.Counts;
import io.imagemirror.store.ManifestReferences.Kind;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ManifestReferencesTest {

    static Digest d(String s) {
        return Digest.sha256(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aTagMoveRaisesTheNewManifestBeforeItLowersTheOld() {
        assertThat(ManifestReferences.tagMove(d("a"), d("b")))
                .containsExactly(new Change(d("b"), Kind.TAG, 1), new Change(d("a"), Kind.TAG, -1));
        assertThat(ManifestReferences.tagMove(null, d("b"))).containsExactly(new Change(d("b"), Kind.TAG, 1));
        assertThat(ManifestReferences.tagMove(d("a"), null)).containsExactly(new Change(d("a"), Kind.TAG, -1));
    }

    @Test
    void anIndexRefersToEachMirroredChildOnceAndDeletingItUndoesThat() {
        ChildManifest kept = new ChildManifest(d("kept"), MediaTypes.OCI_MANIFEST, 1, null, true);
        ChildManifest skipped = new ChildManifest(d("skipped"), MediaTypes.OCI_MANIFEST, 1, null, false);
        ManifestRecord idx = new ManifestRecord("r", d("idx"), MediaTypes.OCI_INDEX, 1, null, List.of(),
                List.of(kept, skipped, kept), null, null, null, Map.of(), Instant.EPOCH, null, 0);
        assertThat(ManifestReferences.recorded(idx)).containsExactly(new Change(d("kept"), Kind.PARENT, 1));
        assertThat(ManifestReferences.deleted(idx)).containsExactly(new Change(d("kept"), Kind.PARENT, -1));
        assertThat(ManifestReferences.recorded(idx).get(0).name()).isEqualTo("raise parent " + d("kept"));
    }

    @Test
    void danglingMeansNoReferenceOfAnyKind() {
        Counts c = Counts.NONE;
        assertThat(c.dangling()).isTrue();
        c = c.plus(new Change(d("m"), Kind.PIN, 1)).plus(new Change(d("m"), Kind.TAG, 1));
        assertThat(c).isEqualTo(new Counts(1, 1, 0));
        assertThat(c.plus(new Change(d("m"), Kind.PIN, -1)).dangling()).isFalse();
        assertThat(c.plus(new Change(d("m"), Kind.PIN, -1)).plus(new Change(d("m"), Kind.TAG, -1)).dangling()).isTrue();
        assertThatThrownBy(() -> new Change(d("m"), Kind.TAG, 2)).isInstanceOf(IllegalArgumentException.class);
    }
}
