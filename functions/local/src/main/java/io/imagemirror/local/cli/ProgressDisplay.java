package io.imagemirror.local.cli;

import io.imagemirror.mirror.MirrorListener;
import java.io.PrintWriter;

/**
 * How a foreground copy shows its layers ({@code mirror}, {@code sync}): redrawn bars on a terminal
 * ({@link TerminalProgress}), settled lines otherwise ({@link PlainProgress}), so logs and pipes
 * stay line-oriented. One display per image.
 */
interface ProgressDisplay extends MirrorListener {

    /** Draws the final state (a terminal display may have skipped the last redraws). */
    default void finish() {
    }

    /** The display for {@code out}: a terminal's when the process has one. */
    static ProgressDisplay forOutput(PrintWriter out) {
        return System.console() != null ? new TerminalProgress(out) : new PlainProgress(out);
    }
}
