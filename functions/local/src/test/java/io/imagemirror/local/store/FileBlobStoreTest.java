package io.imagemirror.local.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.oci.Digest;
import io.imagemirror.store.BigBlobPut;
import io.imagemirror.store.BlobStore;
import io.imagemirror.store.BlobStoreContract;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileBlobStoreTest extends BlobStoreContract {

    @TempDir
    Path data;

    @Override
    protected BlobStore newStore() {
        return FileBlobStore.blobs(data);
    }

    @Override
    protected boolean presigns() {
        return false;
    }

    @Override
    protected BigPutChild bigPutChild() {
        return new BigPutChild(BigPut.class, List.of(data.toString()));
    }

    /** The child JVM of the 200 MiB check: {@code BigPut DATA_DIR}. */
    public static final class BigPut {
        public static void main(String[] args) throws Exception {
            BigBlobPut.putInThisJvm(FileBlobStore.blobs(Path.of(args[0])));
        }
    }

    @Test
    void putFileLinksAVerifiedSpoolIntoPlaceWithoutCopying() throws Exception {
        FileBlobStore store = FileBlobStore.blobs(data);
        byte[] bytes = "spooled blob".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Digest d = Digest.sha256(bytes);
        Path spool = Files.createDirectories(data.resolve("spool")).resolve("x.spool");
        Files.write(spool, bytes);
        assertThat(store.putFile(d, bytes.length, spool))
                .isEqualTo(BlobStore.PutResult.STORED);
        Files.delete(spool);
        try (var c = store.open(d).orElseThrow()) {
            assertThat(c.stream().readAllBytes()).isEqualTo(bytes);
        }
        Files.write(spool, bytes);
        assertThat(store.putFile(d, bytes.length, spool))
                .isEqualTo(BlobStore.PutResult.ALREADY_EXISTS);
        Digest other = Digest.sha256(new byte[] {1});
        assertThatThrownBy(() -> store.putFile(other, 99, spool))
                .isInstanceOf(java.io.IOException.class).hasMessageContaining("not 99");
        assertThat(store.exists(other)).isFalse();
    }

    @Test
    void layoutIsAlgorithmPrefixHexAndManifestsAreSeparate() throws Exception {
        byte[] b = bytes("layout");
        Digest d = Digest.sha256(b);
        store.put(d, b.length, new ByteArrayInputStream(b));
        assertThat(data.resolve("blobs/sha256/" + d.hex().substring(0, 2) + "/" + d.hex())).hasBinaryContent(b);
        BlobStore manifests = FileBlobStore.manifests(data);
        assertThat(manifests.exists(d)).isFalse();
        manifests.put(d, b.length, new ByteArrayInputStream(b));
        assertThat(data.resolve("manifests/sha256/" + d.hex().substring(0, 2) + "/" + d.hex())).exists();
        assertThat(tempFiles()).isEmpty();
    }

    @Test
    void failedPutsLeaveNoTempFiles() throws Exception {
        byte[] b = bytes("bad");
        try {
            store.put(Digest.sha256(bytes("good")), b.length, new ByteArrayInputStream(b));
        } catch (java.io.IOException expected) {
            // the contract checks the exception
        }
        assertThat(tempFiles()).isEmpty();
    }

    @Test
    void leftoversAreClearedWhenTheDataDirectoryIsTakenAndNotBefore() throws Exception {
        Path part = Files.writeString(data.resolve("tmp/0123456789ab-1.part"), "left by a killed process");
        Files.createDirectories(data.resolve("spool"));
        Path spool = Files.writeString(data.resolve("spool/0123456789ab.spool"), "left by a killed fill");
        FileBlobStore.blobs(data);
        assertThat(part).as("a store alone never guesses which temp files are dead").exists();
        try (DataDirectoryLock lock = DataDirectoryLock.acquire(data, false, line -> { })) {
            assertThat(part).doesNotExist();
            assertThat(spool).doesNotExist();
            assertThatThrownBy(() -> DataDirectoryLock.acquire(data, false, line -> { }))
                    .hasMessageContaining("already open");
        }
    }

    private List<Path> tempFiles() throws Exception {
        try (Stream<Path> s = Files.list(data.resolve("tmp"))) {
            return s.toList();
        }
    }
}
