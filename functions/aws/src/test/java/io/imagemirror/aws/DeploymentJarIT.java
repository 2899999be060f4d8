package io.imagemirror.aws;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/** The Lambda deployment jar carries the core and the SDK, and none of the local-only stacks. */
class DeploymentJarIT {

    @Test
    void deploymentJarHasNoJettySqliteOrPicocli() throws IOException {
        Path jar = Path.of("target/image-mirror-aws.jar");
        assertThat(jar).exists();
        try (JarFile f = new JarFile(jar.toFile())) {
            List<String> names = f.stream().map(JarEntry::getName).toList();
            assertThat(names).anyMatch(n -> n.startsWith("io/imagemirror/reference/"));
            assertThat(names).anyMatch(n -> n.startsWith("software/amazon/awssdk/services/s3/"));
            assertThat(names).noneMatch(n -> n.startsWith("org/eclipse/jetty/"))
                    .noneMatch(n -> n.startsWith("org/sqlite/"))
                    .noneMatch(n -> n.startsWith("picocli/"))
                    .noneMatch(n -> n.startsWith("io/imagemirror/local/"))
                    .noneMatch(n -> n.startsWith("org/apache/http/"))
                    .noneMatch(n -> n.startsWith("io/netty/"));
        }
    }
}
