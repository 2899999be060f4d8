package io.imagemirror.aws.handlers;

import com.sun.management.HotSpotDiagnosticMXBean;
import io.imagemirror.aws.AwsWiring;
import io.imagemirror.oci.Sha256State;
import java.lang.management.ManagementFactory;
import java.util.OptionalInt;

/**
 * The JIT level this JVM compiles up to. Lambda's java17 and java21 runtimes stop at C1 (level 1)
 * unless {@code JAVA_TOOL_OPTIONS} says otherwise, and C1 does not use the CPU's SHA instructions
 * for SHA-256: a function that verifies large blobs then hashes about ten times slower. The
 * CopyWorker, whose template sets level 4, logs a warning at init when it runs at a lower level
 * (a deployment that dropped the variable), so the cause of slow copies shows in its logs; and
 * likewise when its resumable copies cannot hash with the JDK's SHA-256 ({@link Sha256State}).
 */
final class JitLevel {

    /** The level at which the JVM uses SHA-256 intrinsics (C2). */
    static final int C2 = 4;

    private JitLevel() {
    }

    /** {@code -XX:TieredStopAtLevel} of this JVM, if it is a HotSpot JVM that tells. */
    static OptionalInt stopAtLevel() {
        try {
            HotSpotDiagnosticMXBean hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            if (hotspot == null) {
                return OptionalInt.empty();
            }
            return OptionalInt.of(Integer.parseInt(hotspot.getVMOption("TieredStopAtLevel").getValue()));
        } catch (RuntimeException | LinkageError e) {
            return OptionalInt.empty();
        }
    }

    /** The warning for {@code function} at {@code level}, or null when the level compiles with C2. */
    static String warning(String function, int level) {
        if (level >= C2) {
            return null;
        }
        return function + " runs with -XX:TieredStopAtLevel=" + level + ": without C2, SHA-256 verification of "
                + "blobs is about 10x slower; set JAVA_TOOL_OPTIONS=\"-XX:+TieredCompilation "
                + "-XX:TieredStopAtLevel=4\" on the function (template.yaml does)";
    }

    /**
     * The warning for {@code function} when its resumable copies hash with Bouncy Castle (the JVM
     * does not open {@code sun.security.provider}), or null when they hash with the JDK's SHA-256.
     */
    static String hashWarning(String function) {
        if (Sha256State.usesJdk()) {
            return null;
        }
        return function + ": resumable copies hash with " + Sha256State.implementation();
    }

    /**
     * Logs {@link #warning} and {@link #hashWarning} for this JVM on a daemon thread (off the init
     * path; it also runs {@link Sha256State}'s self-test before the first copy needs it).
     */
    static void warnInBackground(String function) {
        AwsWiring.initThread(() -> {
            stopAtLevel().ifPresent(level -> {
                String warning = warning(function, level);
                if (warning != null) {
                    LambdaLog.warn(warning);
                }
            });
            String hash = hashWarning(function);
            if (hash != null) {
                LambdaLog.warn(hash);
            }
        }, "init-jit-level");
    }
}
