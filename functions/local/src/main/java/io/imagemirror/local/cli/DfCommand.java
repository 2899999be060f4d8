package io.imagemirror.local.cli;

import io.imagemirror.listing.HumanUnits;
import io.imagemirror.listing.MirrorViews;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code image-mirror df}: how much the mirror stores, and what layer sharing saved, like docker system df. */
@Command(name = "df", mixinStandardHelpOptions = true,
        description = {"Show the mirror's disk usage, like docker system df:",
            "images (distinct manifests a tag or pin names), tags, manifests (platforms included), the blob bytes "
                + "stored (each layer once), what the same images would take without layer sharing (the sum of "
                + "their SIZEs), and what is reclaimable: bytes of blobs only dangling manifests reference.",
            "Reads the whole index page by page; on a large mirror it takes a while."})
final class DfCommand implements Callable<Integer> {

    @ParentCommand
    ImageMirrorCommand parent;

    @Spec
    CommandSpec spec;

    @Option(names = "--format", paramLabel = "table|json", description = "table (default) or json.")
    String format;

    @Override
    public Integer call() throws Exception {
        boolean json = ViewOptions.jsonFormat(spec.commandLine(), format, "df");
        PrintWriter out = spec.commandLine().getOut();
        return ViewOptions.withViews(parent, spec.commandLine(), views -> {
            MirrorViews.Usage u = views.usage();
            if (json) {
                out.println(u.toJson());
            } else {
                out.printf("%-26s%d%n", "Repositories", u.repositories());
                out.printf("%-26s%d%n", "Images", u.images());
                out.printf("%-26s%d%n", "Tags", u.tags());
                out.printf("%-26s%d (%d dangling)%n", "Manifests", u.manifests(), u.dangling());
                out.printf("%-26s%s in %d blobs%n", "Stored", HumanUnits.size(u.storedBytes()), u.blobs());
                out.printf("%-26s%s (layer sharing saved %s)%n", "Without layer sharing",
                        HumanUnits.size(u.unsharedBytes()), HumanUnits.size(u.savedBytes()));
                out.printf("%-26s%s%n", "Reclaimable (dangling)", HumanUnits.size(u.reclaimableBytes()));
                out.printf("%-26s%d%n", "Pulls served", u.pulls());
            }
            out.flush();
            return 0;
        });
    }
}
