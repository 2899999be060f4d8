package io.imagemirror.local.cli;

import io.imagemirror.mirror.BlobOutcome;
import io.imagemirror.oci.Digest;
import java.io.PrintWriter;

/** Progress as plain lines, for logs and pipes: one line when a layer starts and one when it is settled. */
final class PlainProgress implements ProgressDisplay {
    private final PrintWriter out;

    PlainProgress(PrintWriter out) {
        this.out = out;
    }

    @Override
    public synchronized void resolving(String reference) {
        out.println("Resolving " + reference);
        out.flush();
    }

    @Override
    public synchronized void upToDate(String reference, Digest digest) {
        out.println(reference + ": up to date at " + digest);
        out.flush();
    }

    @Override
    public synchronized void blobStarted(Digest digest, long size) {
        out.println(digest.shortHex() + ": Pulling fs layer (" + human(size) + ")");
        out.flush();
    }

    @Override
    public synchronized void blobFinished(BlobOutcome o) {
        out.println(o.digest().shortHex() + ": " + status(o));
        out.flush();
    }

    static String status(BlobOutcome o) {
        return switch (o.status()) {
            case COPIED -> "Pull complete";
            case ALREADY_EXISTS -> "Already exists";
            case SKIPPED_NON_DISTRIBUTABLE -> "Skipped (non-distributable)";
        };
    }

    /** 1.2MB, 34.5kB: the units docker pull shows (powers of 1000). */
    static String human(long bytes) {
        if (bytes < 1000) {
            return bytes + "B";
        }
        String[] units = {"kB", "MB", "GB", "TB"};
        double v = bytes;
        int u = -1;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return String.format("%.1f%s", v, units[u]);
    }
}
