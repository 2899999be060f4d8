package io.imagemirror.aws.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

class JitLevelTest {

    @Test
    void readsThisJvmsLevel() {
        // Surefire's JVM runs with the default tiers unless its arguments say otherwise.
        boolean capped = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .anyMatch(a -> a.startsWith("-XX:TieredStopAtLevel="));
        assertThat(JitLevel.stopAtLevel()).isPresent();
        if (!capped) {
            assertThat(JitLevel.stopAtLevel().getAsInt()).isEqualTo(JitLevel.C2);
        }
    }

    @Test
    void warnsBelowC2Only() {
        assertThat(JitLevel.warning("CopyWorker", 1)).startsWith("CopyWorker runs with -XX:TieredStopAtLevel=1")
                .contains("JAVA_TOOL_OPTIONS=\"-XX:+TieredCompilation -XX:TieredStopAtLevel=4\"");
        assertThat(JitLevel.warning("CopyWorker", 4)).isNull();
    }

    @Test
    void noHashWarningWhereTheJdksSha256IsUsed() {
        // surefire opens sun.security.provider, as the CopyWorker's JAVA_TOOL_OPTIONS do
        assertThat(io.imagemirror.oci.Sha256State.usesJdk()).isTrue();
        assertThat(JitLevel.hashWarning("CopyWorker")).isNull();
    }
}
