package io.imagemirror.upstream;

import io.imagemirror.oci.ContentMismatchException;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.RegistryException;
import io.imagemirror.oci.VerifyingInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.security.MessageDigest;
import okhttp3.Response;

/**
 * A blob's bytes, verified while they stream, that survive broken connections: when a read fails
 * (reset, stall past the read timeout, premature end), the stream asks again from the last byte
 * it handed out — with {@code Range} — and continues hashing from a snapshot of the hash state. A
 * server that ignores the range and sends everything again has the already-delivered prefix
 * skipped. Gives up after {@link RetryPolicy#maxAttempts()} failures without progress. Never
 * yields a byte twice or a wrong byte unnoticed: the end of stream comes only after the digest and
 * size matched. Not thread-safe; the caller closes it.
 */
final class BlobStream extends InputStream implements io.imagemirror.oci.Verified {

    /** Opens the blob from {@code offset} (a Range request when positive), retrying as the client does. */
    @FunctionalInterface
    interface Opener {
        Response open(long offset) throws IOException;
    }

    private final Opener opener;
    private final Digest digest;
    private final long size;
    private final RetryPolicy retry;
    private final StallWatch.Ticket ticket;

    private Response response;
    private VerifyingInputStream in;
    private long resumeOffset;
    private MessageDigest resumeHasher;
    private long lastFailureOffset = -1;
    private int failuresWithoutProgress;
    private int resumes;
    private boolean closed;

    private BlobStream(Opener opener, Digest digest, long size, RetryPolicy retry, StallWatch.Ticket ticket) {
        this.opener = opener;
        this.digest = digest;
        this.size = size;
        this.retry = retry;
        this.ticket = ticket;
    }

    /**
     * Opens the blob from its start; a missing blob fails here rather than on the first read.
     *
     * @param ticket counts the reads for the stall watch of the requests {@code opener} makes (the
     *     caller closes it)
     */
    static BlobStream open(Opener opener, Digest digest, long size, RetryPolicy retry, StallWatch.Ticket ticket)
            throws IOException {
        BlobStream s = new BlobStream(opener, digest, size, retry, ticket);
        s.response = opener.open(0);
        s.in = new VerifyingInputStream(s.response.body().byteStream(), digest, size);
        return s;
    }

    /**
     * The blob from {@code offset} on, whose first {@code offset} bytes were verified elsewhere and
     * hashed into {@code hashed} (cloned here): asked for with {@code Range}, checked against the
     * whole digest at its end.
     */
    static BlobStream resume(Opener opener, Digest digest, long size, RetryPolicy retry, StallWatch.Ticket ticket,
                             MessageDigest hashed, long offset) throws IOException {
        BlobStream s = new BlobStream(opener, digest, size, retry, ticket);
        s.resumeOffset = offset;
        s.resumeHasher = hashed;
        s.reopen();
        s.resumes = 0; // a start, not a resume
        return s;
    }

    @Override
    public boolean verifies(Digest d, long n) {
        return digest.equals(d) && (n < 0 || n == size);
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("blob stream of " + digest + " is closed");
        }
        while (true) {
            try {
                if (in == null) {
                    reopen();
                }
                int n = in.read(b, off, len);
                ticket.progress();
                return n;
            } catch (ContentMismatchException e) {
                if (e.kind() != ContentMismatchException.Kind.TOO_SHORT) {
                    close(); // wrong bytes: asking again cannot help
                    throw e;
                }
                // The response ended cleanly before the blob did (a Content-Length smaller than the
                // blob): a short read like any other, resumed from the last verified byte.
                noteFailure(e);
            } catch (RegistryException e) {
                close(); // a definite refusal: asking again cannot help
                throw e;
            } catch (IOException e) {
                if (Thread.currentThread().isInterrupted()) {
                    close();
                    throw e;
                }
                noteFailure(e); // reset, premature end, or a read timeout on a stalled body: resume
            }
        }
    }

    /** Records where the broken stream stopped and drops it; gives up when nothing moves any more. */
    private void noteFailure(IOException cause) throws IOException {
        if (in != null) {
            resumeOffset = in.bytesRead();
            resumeHasher = in.hasherSnapshot();
            in = null;
        }
        closeResponse();
        if (resumeOffset > lastFailureOffset) {
            lastFailureOffset = resumeOffset;
            failuresWithoutProgress = 0;
        }
        failuresWithoutProgress++;
        if (failuresWithoutProgress > retry.maxAttempts()) {
            close();
            throw RegistryException.transport("reading blob " + digest + " failed at byte " + resumeOffset + " after "
                    + (failuresWithoutProgress - 1) + " attempts to resume", cause);
        }
        if (failuresWithoutProgress > 1) {
            try {
                retry.sleeper().sleep(retry.delayAfter(failuresWithoutProgress - 1, null));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new InterruptedIOException("interrupted while resuming blob " + digest);
            }
        }
    }

    private void reopen() throws IOException {
        resumes++;
        MessageDigest hasher;
        try {
            hasher = (MessageDigest) resumeHasher.clone();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("hasher not cloneable", e);
        }
        if (size >= 0 && resumeOffset == size) {
            // Everything arrived; only the end-of-stream check was cut off. Nothing left to ask for.
            in = VerifyingInputStream.resume(InputStream.nullInputStream(), digest, size, hasher, resumeOffset);
            return;
        }
        Response r = opener.open(resumeOffset);
        response = r;
        InputStream body = r.body().byteStream();
        if (resumeOffset > 0) {
            if (r.code() == 206) {
                long start = RegistryClient.contentRangeStart(r);
                if (start != resumeOffset) {
                    close();
                    throw RegistryException.refused("blob " + digest + ": asked for bytes from " + resumeOffset
                            + ", got a range starting at " + start, ErrorCode.RANGE_INVALID);
                }
            } else {
                skipFully(body, resumeOffset); // the server ignored Range: drop what was already delivered
            }
        }
        in = VerifyingInputStream.resume(body, digest, size, hasher, resumeOffset);
    }

    private static void skipFully(InputStream body, long n) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long left = n;
        while (left > 0) {
            int r = body.read(buf, 0, (int) Math.min(buf.length, left));
            if (r < 0) {
                throw new IOException("restarted body ended before the resume offset");
            }
            left -= r;
        }
    }

    /** How many times the stream had to ask again (for tests and metrics). */
    int resumes() {
        return resumes;
    }

    @Override
    public int available() throws IOException {
        return in == null ? 0 : in.available();
    }

    private void closeResponse() {
        if (response != null) {
            response.close();
            response = null;
        }
    }

    @Override
    public void close() {
        closed = true;
        in = null;
        closeResponse();
        ticket.close();
    }
}
