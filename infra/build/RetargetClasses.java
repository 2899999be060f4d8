import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;

/**
 * Build step of functions/local (run by maven-antrun-plugin after the shade, with the JDK's
 * single-file source launcher): rewrites the classes under a package prefix of the shaded jar as
 * Java 8 class files with stack map frames computed by ASM. Nothing else changes: same bytecode,
 * same constant pool meanings; the other entries are copied as they are.
 *
 * <p>Why: picocli 4.7.x ships class-file version 49 (Java 5). The JVM verifies such classes with the
 * old type-inferencing verifier, and class-data sharing refuses to archive them ("Pre JDK 6 class
 * not supported by CDS"), so every CLI start paid for picocli's ~180 classes in full (the figures
 * before and after are in docs/benchmarks.md, "CLI start").
 *
 * <p>Idempotent: classes already at version 52 or later are left alone. Usage:
 * {@code java -cp asm.jar RetargetClasses.java JAR PREFIX/}
 */
public final class RetargetClasses {

    private static final int JAVA_8 = 52;

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: RetargetClasses JAR PACKAGE_PREFIX/");
            System.exit(2);
        }
        Path jar = Path.of(args[0]);
        String prefix = args[1];
        int rewritten = 0;
        int kept = 0;
        // Frames need the common superclass of two types: load them from the jar itself (and the JDK).
        try (URLClassLoader types = new URLClassLoader(new URL[] {jar.toUri().toURL()},
                ClassLoader.getPlatformClassLoader());
             FileSystem zip = FileSystems.newFileSystem(jar)) {
            Path root = zip.getPath(prefix);
            if (!Files.isDirectory(root)) {
                throw new IllegalStateException(jar + " has no " + prefix);
            }
            List<Path> classes;
            try (Stream<Path> all = Files.walk(root)) {
                classes = all.filter(p -> p.toString().endsWith(".class")).toList();
            }
            for (Path p : classes) {
                byte[] in = Files.readAllBytes(p);
                if (major(in) >= JAVA_8) {
                    kept++;
                    continue;
                }
                Files.write(p, retarget(in, types));
                rewritten++;
            }
        }
        System.out.println("RetargetClasses: " + rewritten + " classes under " + prefix + " rewritten as Java 8 class files, "
                + kept + " already were, in " + jar.getFileName());
    }

    static int major(byte[] classFile) {
        return ((classFile[6] & 0xff) << 8) | (classFile[7] & 0xff);
    }

    static byte[] retarget(byte[] classFile, ClassLoader types) {
        ClassReader reader = new ClassReader(classFile);
        // No reader handed to the writer: every method is written anew, so frames are computed for all.
        ClassWriter writer = new ClassWriter(ClassWriter.COMPUTE_FRAMES) {
            @Override
            protected ClassLoader getClassLoader() {
                return types;
            }
        };
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public void visit(int version, int access, String name, String signature, String superName,
                              String[] interfaces) {
                super.visit(Opcodes.V1_8, access, name, signature, superName, interfaces);
            }
        }, ClassReader.SKIP_FRAMES);
        return writer.toByteArray();
    }
}
