package io.imagemirror.aws;

import io.imagemirror.oci.Digest;
import io.imagemirror.oci.Sha256State;
import java.nio.charset.StandardCharsets;

/**
 * A resumable copy's hash, in a JVM whose class path is the deployment jar (plus this class): the
 * jar carries only some of Bouncy Castle's classes (the shade filter), and they must be all that a
 * SHA-256 state saved in one invocation and restored in the next needs. Prints one line for
 * {@link DeploymentJarIT}, and which SHA-256 hashed (the JDK's when the JVM opens
 * {@code sun.security.provider}, else Bouncy Castle's).
 */
public final class JarSha256Smoke {
    private JarSha256Smoke() {
    }

    public static void main(String[] args) {
        byte[] first = "the first part of a blob, ".getBytes(StandardCharsets.UTF_8);
        byte[] rest = "and the rest of it in another invocation".getBytes(StandardCharsets.UTF_8);
        Sha256State before = Sha256State.start();
        before.update(first, 0, first.length);
        Sha256State after = Sha256State.restore(before.saved());
        after.update(rest, 0, rest.length);
        byte[] all = new byte[first.length + rest.length];
        System.arraycopy(first, 0, all, 0, first.length);
        System.arraycopy(rest, 0, all, first.length, rest.length);
        Digest got = after.finish();
        System.out.println("sha256 state " + (got.equals(Digest.sha256(all)) ? "ok" : "wrong: " + got));
        System.out.println("hashed by " + Sha256State.implementation());
    }
}
