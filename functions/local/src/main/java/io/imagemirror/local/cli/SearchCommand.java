package io.imagemirror.local.cli;

import io.imagemirror.listing.InvalidFilterException;
import io.imagemirror.listing.MirrorViews;
import io.imagemirror.store.Page;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code image-mirror search TERM}: mirrored repositories whose name contains TERM. */
@Command(name = "search", mixinStandardHelpOptions = true,
        description = {"Search the mirrored repositories (not Docker Hub) for names containing TERM.",
            "NAME is how clients of this mirror write the repository; OFFICIAL marks Docker Hub's library/ images.",
            "Of docker search's filters only is-official applies: a mirror has no stars (stars=) and no "
                + "automated builds (is-automated=); both are refused."})
final class SearchCommand implements Callable<Integer> {

    @ParentCommand
    ImageMirrorCommand parent;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "TERM", description = "Part of a repository name, e.g. alpine or ghcr.io/org.")
    String term;

    @Option(names = "--limit", defaultValue = "25", paramLabel = "N",
            description = "At most N results. Default: ${DEFAULT-VALUE}.")
    int limit;

    @Option(names = {"-f", "--filter"}, paramLabel = "is-official=true|false", description = "Filter (repeatable).")
    List<String> filters = new ArrayList<>();

    @Option(names = "--format", paramLabel = "table|json", description = "table (default) or json (one object per line).")
    String format;

    @Override
    public Integer call() throws Exception {
        if (limit < 1 || limit > 1000) {
            throw ViewOptions.usage(spec.commandLine(), "--limit must be from 1 to 1000, got " + limit);
        }
        boolean json = "json".equals(format);
        if (format != null && !json && !format.equals("table")) {
            throw ViewOptions.usage(spec.commandLine(), "bad format \"" + ViewOptions.echo(format)
                    + "\" for search (use table or json)");
        }
        Boolean official;
        try {
            official = MirrorViews.officialFilter(filters);
        } catch (InvalidFilterException e) {
            throw ViewOptions.usage(spec.commandLine(), e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        return ViewOptions.withViews(parent, spec.commandLine(), views -> {
            Page<MirrorViews.SearchHit> hits = views.search(term, official, limit, null);
            int width = Math.max(40, hits.items().stream().mapToInt(h -> h.name().length() + 3).max().orElse(0));
            if (!json) {
                out.printf("%-" + width + "s%-10s%s%n", "NAME", "OFFICIAL", "REPOSITORY");
            }
            for (MirrorViews.SearchHit h : hits.items()) {
                if (json) {
                    out.println(h.toJson());
                } else {
                    out.printf("%-" + width + "s%-10s%s%n", h.name(), h.official() ? "[OK]" : "", h.repositoryKey());
                }
            }
            out.flush();
            return 0;
        });
    }
}
