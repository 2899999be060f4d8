package io.imagemirror.local.cli;

import io.imagemirror.mirror.BlobOutcome;
import io.imagemirror.oci.Digest;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Progress on a terminal, like {@code docker pull}: one line per layer, redrawn in place with a
 * bar while it downloads. Redraws at most ten times a second.
 */
final class TerminalProgress implements ProgressDisplay {
    private static final int BAR = 40;

    private final PrintWriter out;
    private final Map<Digest, String> rows = new LinkedHashMap<>();
    private int drawn;
    private long lastDraw;

    TerminalProgress(PrintWriter out) {
        this.out = out;
    }

    @Override
    public synchronized void blobStarted(Digest digest, long size) {
        rows.put(digest, "Pulling fs layer");
        draw(true);
    }

    @Override
    public synchronized void blobProgress(Digest digest, long done, long size) {
        int filled = size <= 0 ? BAR : (int) (BAR * done / size);
        rows.put(digest, "Downloading [" + "=".repeat(Math.max(0, filled - 1)) + (filled > 0 ? ">" : "")
                + " ".repeat(BAR - filled) + "] " + PlainProgress.human(done) + "/" + PlainProgress.human(size));
        draw(false);
    }

    @Override
    public synchronized void blobFinished(BlobOutcome o) {
        rows.put(o.digest(), PlainProgress.status(o));
        draw(true);
    }

    @Override
    public synchronized void finish() {
        draw(true);
    }

    private void draw(boolean force) {
        long now = System.nanoTime();
        if (!force && now - lastDraw < 100_000_000L) {
            return;
        }
        lastDraw = now;
        if (drawn > 0) {
            out.print("\u001b[" + drawn + "F"); // cursor to the start of the first drawn line
        }
        for (Map.Entry<Digest, String> e : rows.entrySet()) {
            out.print("\u001b[2K" + e.getKey().shortHex() + ": " + e.getValue() + "\n");
        }
        drawn = rows.size();
        out.flush();
    }
}
