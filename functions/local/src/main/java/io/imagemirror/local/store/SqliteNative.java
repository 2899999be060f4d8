package io.imagemirror.local.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.CRC32;

/**
 * sqlite-jdbc's native library, kept in the data directory ({@code native/libsqlitejdbc.*}) so that
 * opening the store does not extract it again. Left alone, sqlite-jdbc copies the library out of
 * the jar into the temp directory under a random name on every start, compares the copy with the
 * jar byte by byte, and first runs {@code uname -o} in a child process to rule out Android: about
 * 120 ms of a 0.76 s {@code image-mirror images} here (docs/benchmarks.md).
 *
 * <p>Here the library is checked against the jar by size and CRC-32 (the entry is inflated, the
 * file read: a few milliseconds), written again (to a temporary file, then renamed) when it differs,
 * and named to sqlite-jdbc through {@code org.sqlite.lib.path} and {@code org.sqlite.lib.name}.
 * Only where the library's folder is known without sqlite-jdbc's probes: Linux with glibc and
 * macOS, on x86_64 and aarch64. Anywhere else, when any step fails, or when the properties are
 * set already, nothing changes and sqlite-jdbc loads as it always does; so it does too when the
 * JVM refuses to load from the data directory (a {@code noexec} mount): it falls back to its own
 * copy in the temp directory.
 */
public final class SqliteNative {

    private static final AtomicBoolean TRIED = new AtomicBoolean();

    private SqliteNative() {
    }

    /** Whether this JVM's platform is one whose library this class keeps in the data directory. */
    public static boolean knowsThisPlatform() {
        return thisPlatform().isPresent();
    }

    private static Optional<String> thisPlatform() {
        return resource(System.getProperty("os.name", ""), System.getProperty("os.arch", ""),
                Files.exists(Path.of("/lib64/ld-linux-x86-64.so.2")) || Files.exists(Path.of("/lib/ld-linux-aarch64.so.1")));
    }

    /** Points sqlite-jdbc at the copy under {@code data} (made or refreshed first); once per JVM. */
    static void useCopyIn(Path data) {
        if (!TRIED.compareAndSet(false, true) || System.getProperty("org.sqlite.lib.path") != null
                || System.getProperty("org.sqlite.lib.name") != null) {
            return;
        }
        Optional<String> resource = thisPlatform();
        if (resource.isEmpty()) {
            return;
        }
        try {
            String name = resource.get().substring(resource.get().lastIndexOf('/') + 1);
            Path dir = data.resolve("native");
            copyIfChanged(resource.get(), dir.resolve(name));
            System.setProperty("org.sqlite.lib.path", dir.toAbsolutePath().toString());
            System.setProperty("org.sqlite.lib.name", name);
        } catch (IOException | RuntimeException e) {
            // sqlite-jdbc extracts the library itself, as without this class
        }
    }

    /**
     * The jar resource of the library for this platform, when it is one of those this class knows
     * ({@code glibcLoader}: the glibc dynamic loader is present, so this is not a musl system).
     */
    static Optional<String> resource(String osName, String osArch, boolean glibcLoader) {
        String arch = switch (osArch.toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> null;
        };
        if (arch == null) {
            return Optional.empty();
        }
        String os = osName.toLowerCase(Locale.ROOT);
        if (os.equals("linux") && glibcLoader) {
            return Optional.of("org/sqlite/native/Linux/" + arch + "/libsqlitejdbc.so");
        }
        if (os.startsWith("mac") || os.startsWith("darwin")) {
            return Optional.of("org/sqlite/native/Mac/" + arch + "/libsqlitejdbc.dylib");
        }
        return Optional.empty();
    }

    /** Writes the resource to {@code target} unless a file of the same size and CRC-32 is there. */
    static void copyIfChanged(String resource, Path target) throws IOException {
        long[] want = crcOf(resource);
        if (Files.isRegularFile(target) && Files.size(target) == want[0]) {
            try (InputStream in = Files.newInputStream(target)) {
                if (crc(in)[1] == want[1]) {
                    return;
                }
            }
        }
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".tmp");
        try {
            try (InputStream in = open(resource); OutputStream out = Files.newOutputStream(tmp)) {
                in.transferTo(out);
            }
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static long[] crcOf(String resource) throws IOException {
        try (InputStream in = open(resource)) {
            return crc(in);
        }
    }

    private static InputStream open(String resource) throws IOException {
        InputStream in = SqliteNative.class.getClassLoader().getResourceAsStream(resource);
        if (in == null) {
            throw new IOException("no " + resource + " on the class path");
        }
        return in;
    }

    /** {size, CRC-32} of what {@code in} reads. */
    private static long[] crc(InputStream in) throws IOException {
        CRC32 crc = new CRC32();
        byte[] buf = new byte[1 << 16];
        long size = 0;
        for (int n; (n = in.read(buf)) >= 0; ) {
            crc.update(buf, 0, n);
            size += n;
        }
        return new long[] {size, crc.getValue()};
    }
}
