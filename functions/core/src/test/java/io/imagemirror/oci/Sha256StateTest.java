package io.imagemirror.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class Sha256StateTest {

    private static final byte[] DATA = new byte[3 << 20];

    static {
        new Random(42).nextBytes(DATA);
    }

    /** The surefire JVM opens sun.security.provider, as the CopyWorker's JAVA_TOOL_OPTIONS do. */
    @Test
    void withThePackageOpenTheJdksSha256Hashes() {
        assertThat(Sha256State.implementation()).startsWith("JDK SHA-256");
        assertThat(Sha256State.usesJdk()).isTrue();
    }

    /** Split points: nothing, inside the first block, block edges, inside a later block, MiB edges, all. */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 3, 4, 5, 63, 64, 65, 127, 128, 1000, 1 << 20, (1 << 20) + 17, 3 << 20})
    void aStateSavedByEitherHashGoesOnInEither(int split) {
        Digest expected = Digest.sha256(DATA);
        for (boolean fromJdk : new boolean[] {true, false}) {
            Sha256State first = fromJdk ? Sha256State.start() : Sha256State.startBouncyCastle();
            first.update(DATA, 0, split);
            byte[] saved = first.saved();
            for (boolean toJdk : new boolean[] {true, false}) {
                Sha256State second = Sha256State.restore(saved, toJdk);
                assertThat(second.sameAs(first)).isTrue();
                // in pieces that do not line up with blocks
                for (int at = split; at < DATA.length; at += 100_003) {
                    second.update(DATA, at, Math.min(100_003, DATA.length - at));
                }
                assertThat(second.finish()).as("saved by %s at %d, restored by %s", fromJdk ? "JDK" : "BC",
                        split, toJdk ? "JDK" : "BC").isEqualTo(expected);
            }
            // saving leaves the hash as it was
            first.update(DATA, split, DATA.length - split);
            assertThat(first.finish()).isEqualTo(expected);
        }
    }

    @Test
    void bothHashesSaveTheSameBytesForTheSameInput() {
        for (int n : new int[] {0, 7, 64, 70, 200_000}) {
            Sha256State jdk = Sha256State.start();
            Sha256State bc = Sha256State.startBouncyCastle();
            jdk.update(DATA, 0, n);
            bc.update(DATA, 0, n);
            assertThat(jdk.saved()).isEqualTo(bc.saved());
            assertThat(jdk.sameAs(bc)).isTrue();
        }
        Sha256State a = Sha256State.start();
        Sha256State b = Sha256State.startBouncyCastle();
        a.update(DATA, 0, 100);
        b.update(DATA, 1, 100);
        assertThat(a.sameAs(b)).isFalse();
    }

    @Test
    void theSavedFormatIsTheMagicTheChainingWordsTheCountAndThePendingBytes() {
        Sha256State s = Sha256State.start();
        s.update(DATA, 0, 64 * 3 + 10);
        byte[] saved = s.saved();
        assertThat(new String(saved, 0, 8, StandardCharsets.US_ASCII)).isEqualTo("IMSHA256");
        assertThat(saved).hasSize(8 + 32 + 8 + 10);
        assertThat(Arrays.copyOfRange(saved, 48, 58)).isEqualTo(Arrays.copyOfRange(DATA, 192, 202));
        Sha256State empty = Sha256State.start();
        // SHA-256's initial chaining value starts 6a09e667
        assertThat(Arrays.copyOfRange(empty.saved(), 8, 12)).containsExactly(0x6a, 0x09, 0xe6, 0x67);
    }

    /** Copies suspended before this format carry Bouncy Castle's own encoded state. */
    @ParameterizedTest
    @ValueSource(ints = {0, 2, 64, 77, 1 << 20})
    void aStateInBouncyCastlesOwnEncodingStillRestores(int split) {
        SHA256Digest old = new SHA256Digest();
        old.update(DATA, 0, split);
        byte[] legacy = old.getEncodedState();
        for (boolean toJdk : new boolean[] {true, false}) {
            Sha256State s = Sha256State.restore(legacy, toJdk);
            s.update(DATA, split, DATA.length - split);
            assertThat(s.finish()).isEqualTo(Digest.sha256(DATA));
        }
        Sha256State viaDefault = Sha256State.restore(legacy);
        viaDefault.update(DATA, split, DATA.length - split);
        assertThat(viaDefault.finish()).isEqualTo(Digest.sha256(DATA));
    }

    @Test
    void whatIsNotASavedStateIsRefused() {
        Sha256State s = Sha256State.start();
        s.update(DATA, 0, 70);
        byte[] saved = s.saved();
        byte[] cut = Arrays.copyOf(saved, saved.length - 1);
        assertThatThrownBy(() -> Sha256State.restore(cut)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a saved SHA-256 state");
        byte[] header = Arrays.copyOf(saved, 20);
        assertThatThrownBy(() -> Sha256State.restore(header)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Sha256State.restore("garbage".getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a saved SHA-256 state");
        assertThatThrownBy(() -> Sha256State.restore(new byte[0])).isInstanceOf(IllegalArgumentException.class);
    }
}
