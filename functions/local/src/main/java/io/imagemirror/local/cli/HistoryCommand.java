package io.imagemirror.local.cli;

import io.imagemirror.listing.HumanUnits;
import io.imagemirror.oci.Digest;
import io.imagemirror.store.Page;
import io.imagemirror.store.TagEvent;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code image-mirror history REF}: every move of a tag, newest first. */
@Command(name = "history", mixinStandardHelpOptions = true,
        description = {"Show every move of a mirrored tag, newest first: when, from which manifest to which, "
                + "and why (mirror, pull-through, sync rule NAME, ...).",
            "<none> in FROM is the tag's creation, in TO its deletion. Digests are manifest digests."})
final class HistoryCommand implements Callable<Integer> {

    private static final int PAGE = 200;

    @ParentCommand
    ImageMirrorCommand parent;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "REF", description = "A tag, e.g. golftrack:1.5 (latest when none is given).")
    String reference;

    @Option(names = "--no-trunc", description = "Full digests and exact times.")
    boolean noTrunc;

    @Option(names = "--format", paramLabel = "table|json", description = "table (default) or json (one object per line).")
    String format;

    @Override
    public Integer call() throws Exception {
        boolean json = ViewOptions.jsonFormat(spec.commandLine(), format, "history");
        PrintWriter out = spec.commandLine().getOut();
        Instant now = Clock.systemUTC().instant();
        return ViewOptions.withViews(parent, spec.commandLine(), views -> {
            String token = null;
            int count = 0;
            do {
                Page<TagEvent> page = views.history(reference, PAGE, token);
                for (TagEvent e : page.items()) {
                    if (count++ == 0 && !json) {
                        out.printf("%-22s%-" + (noTrunc ? 74 : 15) + "s%-" + (noTrunc ? 74 : 15) + "s%s%n",
                                "WHEN", "FROM", "TO", "CAUSE");
                    }
                    if (json) {
                        out.println(views.eventJson(e));
                    } else {
                        String when = noTrunc ? e.time().toString()
                                : HumanUnits.duration(Duration.between(e.time(), now)) + " ago";
                        out.printf("%-22s%-" + (noTrunc ? 74 : 15) + "s%-" + (noTrunc ? 74 : 15) + "s%s%n", when,
                                digest(e.oldDigest()), digest(e.newDigest()), e.cause());
                    }
                }
                out.flush();
                token = page.nextToken();
            } while (token != null);
            if (count == 0) {
                spec.commandLine().getErr().println("error: no history of " + ViewOptions.echo(reference)
                        + " in the mirror (never mirrored)");
                spec.commandLine().getErr().flush();
                return 1;
            }
            return 0;
        });
    }

    private String digest(Digest d) {
        if (d == null) {
            return "<none>";
        }
        return noTrunc ? d.toString() : d.hex().substring(0, 12);
    }
}
