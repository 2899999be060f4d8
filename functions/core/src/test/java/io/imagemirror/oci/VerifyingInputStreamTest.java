package io.imagemirror.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class VerifyingInputStreamTest {

    private static final byte[] DATA = new Random(7).ints(100_000, 0, 256)
            .collect(java.io.ByteArrayOutputStream::new, (o, i) -> o.write(i), (a, b) -> { }).toByteArray();
    private static final Digest DIGEST = Digest.sha256(DATA);

    @Test
    void passesMatchingBytesThroughAndReportsVerified() throws IOException {
        VerifyingInputStream in = new VerifyingInputStream(new ByteArrayInputStream(DATA), DIGEST, DATA.length);
        byte[] out = in.readAllBytes();
        assertThat(out).isEqualTo(DATA);
        assertThat(in.isVerified()).isTrue();
        assertThat(in.bytesRead()).isEqualTo(DATA.length);
        assertThat(in.read()).isEqualTo(-1);
    }

    @Test
    void unknownSizeChecksOnlyTheDigest() throws IOException {
        VerifyingInputStream in = new VerifyingInputStream(new ByteArrayInputStream(DATA), DIGEST, -1);
        assertThat(in.drainAndVerify()).isEqualTo(DATA.length);
        assertThat(in.isVerified()).isTrue();
    }

    @Test
    void wrongBytesFailAtEndWithGotAndWant() {
        byte[] bad = DATA.clone();
        bad[500] ^= 1;
        VerifyingInputStream in = new VerifyingInputStream(new ByteArrayInputStream(bad), DIGEST, DATA.length);
        assertThatThrownBy(in::readAllBytes).isInstanceOfSatisfying(ContentMismatchException.class, e -> {
            assertThat(e.kind()).isEqualTo(ContentMismatchException.Kind.DIGEST);
            assertThat(e.wantDigest()).isEqualTo(DIGEST);
            assertThat(e.gotDigest()).isEqualTo(Digest.sha256(bad));
            assertThat(e.getMessage()).contains(DIGEST.toString()).contains(Digest.sha256(bad).toString());
        });
        assertThat(in.isVerified()).isFalse();
    }

    @Test
    void shortStreamFailsWithCounts() {
        byte[] shortData = Arrays.copyOf(DATA, 1000);
        VerifyingInputStream in = new VerifyingInputStream(new ByteArrayInputStream(shortData), DIGEST, DATA.length);
        assertThatThrownBy(in::readAllBytes).isInstanceOfSatisfying(ContentMismatchException.class, e -> {
            assertThat(e.kind()).isEqualTo(ContentMismatchException.Kind.TOO_SHORT);
            assertThat(e.gotSize()).isEqualTo(1000);
            assertThat(e.wantSize()).isEqualTo(DATA.length);
        });
    }

    @Test
    void refusesToReadPastTheExpectedSize() throws IOException {
        byte[] longer = Arrays.copyOf(DATA, DATA.length + 10);
        VerifyingInputStream in = new VerifyingInputStream(new ByteArrayInputStream(longer), DIGEST, DATA.length);
        byte[] buf = new byte[DATA.length + 10];
        int total = 0;
        // reads never hand out more than the declared size...
        while (total < DATA.length) {
            int n = in.read(buf, total, buf.length - total);
            assertThat(n).isPositive();
            total += n;
        }
        assertThat(total).isEqualTo(DATA.length);
        // ...and the extra byte is an error, not data
        assertThatThrownBy(() -> in.read(buf, 0, 10)).isInstanceOfSatisfying(ContentMismatchException.class,
                e -> assertThat(e.kind()).isEqualTo(ContentMismatchException.Kind.TOO_LONG));
    }

    @Test
    void singleByteReadsAndSkipAreHashedToo() throws IOException {
        VerifyingInputStream in = new VerifyingInputStream(new ByteArrayInputStream(DATA), DIGEST, DATA.length);
        assertThat(in.read()).isEqualTo(DATA[0] & 0xff);
        assertThat(in.skip(50_000)).isEqualTo(50_000);
        assertThat(in.drainAndVerify()).isEqualTo(DATA.length);
        assertThat(in.isVerified()).isTrue();
        assertThat(in.markSupported()).isFalse();
    }

    @Test
    void resumesFromASnapshotAfterABrokenStream() throws IOException {
        InputStream breaking = new InputStream() {
            int pos;

            @Override
            public int read() throws IOException {
                if (pos == 40_000) {
                    throw new IOException("connection reset");
                }
                return DATA[pos++] & 0xff;
            }
        };
        VerifyingInputStream first = new VerifyingInputStream(breaking, DIGEST, DATA.length);
        byte[] got = new byte[DATA.length];
        int off = 0;
        try {
            for (int n; (n = first.read(got, off, 1000)) > 0; ) {
                off += n;
            }
        } catch (IOException expected) {
            assertThat(expected).hasMessage("connection reset");
        }
        long offset = first.bytesRead();
        VerifyingInputStream rest = VerifyingInputStream.resume(
                new ByteArrayInputStream(DATA, (int) offset, DATA.length - (int) offset),
                DIGEST, DATA.length, first.hasherSnapshot(), offset);
        byte[] tail = rest.readAllBytes();
        System.arraycopy(tail, 0, got, (int) offset, tail.length);
        assertThat(got).isEqualTo(DATA);
        assertThat(rest.isVerified()).isTrue();
    }

    @Test
    void emptyContentVerifies() throws IOException {
        Digest empty = Digest.sha256(new byte[0]);
        VerifyingInputStream in = new VerifyingInputStream(InputStream.nullInputStream(), empty, 0);
        assertThat(in.read()).isEqualTo(-1);
        assertThat(in.isVerified()).isTrue();
    }

    @Test
    void overTrustsAStreamThatVerifiesTheSameDigestAndSizeOnly() {
        VerifyingInputStream inner = new VerifyingInputStream(new ByteArrayInputStream(DATA), DIGEST, DATA.length);
        assertThat(VerifyingInputStream.over(inner, DIGEST, DATA.length)).isSameAs(inner);
        assertThat(VerifyingInputStream.over(inner, DIGEST, -1)).isSameAs(inner);
        assertThat(VerifyingInputStream.over(inner, DIGEST, DATA.length + 1)).isNotSameAs(inner);
        assertThat(VerifyingInputStream.over(inner, Digest.sha256(new byte[0]), DATA.length)).isNotSameAs(inner);
        InputStream plain = new ByteArrayInputStream(DATA);
        assertThat(VerifyingInputStream.over(plain, DIGEST, DATA.length)).isInstanceOf(VerifyingInputStream.class);
    }
}
