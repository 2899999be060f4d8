package io.imagemirror.local;

/** Placeholder entry point; replaced by the CLI below. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(0);
    }
}
