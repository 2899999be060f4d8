package io.imagemirror.local.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteNativeTest {

    @Test
    void knowsTheLibraryOfGlibcLinuxAndMacOnX8664AndAarch64Only() {
        assertThat(SqliteNative.resource("Linux", "amd64", true)).contains("org/sqlite/native/Linux/x86_64/libsqlitejdbc.so");
        assertThat(SqliteNative.resource("Linux", "aarch64", true)).contains("org/sqlite/native/Linux/aarch64/libsqlitejdbc.so");
        assertThat(SqliteNative.resource("Mac OS X", "aarch64", false)).contains("org/sqlite/native/Mac/aarch64/libsqlitejdbc.dylib");
        assertThat(SqliteNative.resource("Mac OS X", "x86_64", false)).contains("org/sqlite/native/Mac/x86_64/libsqlitejdbc.dylib");
        // musl (no glibc loader), other systems and architectures: sqlite-jdbc's own probes decide
        assertThat(SqliteNative.resource("Linux", "amd64", false)).isEmpty();
        assertThat(SqliteNative.resource("Windows 11", "amd64", false)).isEmpty();
        assertThat(SqliteNative.resource("Linux", "ppc64le", true)).isEmpty();
        assertThat(SqliteNative.resource("FreeBSD", "amd64", false)).isEmpty();
    }

    @Test
    void everyLibraryItNamesIsInTheSqliteJar() {
        for (String r : new String[] {"org/sqlite/native/Linux/x86_64/libsqlitejdbc.so",
                "org/sqlite/native/Linux/aarch64/libsqlitejdbc.so", "org/sqlite/native/Mac/aarch64/libsqlitejdbc.dylib",
                "org/sqlite/native/Mac/x86_64/libsqlitejdbc.dylib"}) {
            assertThat(getClass().getClassLoader().getResource(r)).as(r).isNotNull();
        }
    }

    @Test
    void copiesTheLibraryOnceAndReplacesACopyThatDiffers(@TempDir Path tmp) throws IOException {
        String resource = "org/sqlite/native/Linux/x86_64/libsqlitejdbc.so";
        Path lib = tmp.resolve("native/libsqlitejdbc.so");
        SqliteNative.copyIfChanged(resource, lib);
        byte[] expected = bytes(resource);
        assertThat(Files.readAllBytes(lib)).isEqualTo(expected);

        FileTime past = FileTime.from(Instant.parse("2020-01-01T00:00:00Z"));
        Files.setLastModifiedTime(lib, past);
        SqliteNative.copyIfChanged(resource, lib);
        assertThat(Files.getLastModifiedTime(lib)).as("an equal copy is not written again").isEqualTo(past);

        byte[] flipped = expected.clone();
        flipped[flipped.length / 2] ^= 1;
        Files.write(lib, flipped);
        SqliteNative.copyIfChanged(resource, lib);
        assertThat(Files.readAllBytes(lib)).as("same size, other bytes").isEqualTo(expected);

        Files.write(lib, new byte[] {1, 2, 3});
        SqliteNative.copyIfChanged(resource, lib);
        assertThat(Files.readAllBytes(lib)).as("other size").isEqualTo(expected);
        try (var files = Files.list(lib.getParent())) {
            assertThat(files.toList()).as("no temporary files left").containsExactly(lib);
        }
    }

    @Test
    void aResourceThatIsNotThereFailsWithoutWritingAnything(@TempDir Path tmp) {
        Path lib = tmp.resolve("native/libnothing.so");
        assertThatThrownBy(() -> SqliteNative.copyIfChanged("org/sqlite/native/None/libnothing.so", lib))
                .isInstanceOf(IOException.class);
        assertThat(lib).doesNotExist();
    }

    private byte[] bytes(String resource) throws IOException {
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(resource)) {
            return in.readAllBytes();
        }
    }
}
