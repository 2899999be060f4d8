package io.imagemirror.reference;

import io.imagemirror.oci.Digest;
import io.imagemirror.oci.EchoedInput;
import io.imagemirror.oci.InvalidDigestException;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A reference to an image: {@code [registry/]repository[:tag][@digest]}, following the grammar of
 * CNCF distribution's {@code reference} package.
 *
 * <p>Parsing and defaulting are two steps. {@link #parse} is strict and keeps what was written:
 * {@code alpine} has no registry and no tag. {@link #normalized} applies Docker's defaults: registry
 * {@code docker.io} (also for {@code index.docker.io}), the {@code library/} namespace for official
 * images, and tag {@code latest} when neither tag nor digest is given. With both tag and digest the
 * digest decides and the tag is informational. Immutable; equality is on all four parts.
 */
public final class ImageReference {

    /** The one canonical name of Docker Hub we store; only the upstream client maps it to its API host. */
    public static final String DOCKER_HUB = "docker.io";
    public static final String DEFAULT_TAG = "latest";
    public static final int NAME_MAX_LENGTH = 255;
    public static final int TAG_MAX_LENGTH = 128;

    // alpha-numeric := /[a-z0-9]+/ ; separator := /[_.]|__|[-]+/
    private static final String ALNUM = "[a-z0-9]+";
    private static final String SEPARATOR = "(?:[._]|__|[-]+)";
    /** path-component := alpha-numeric [separator alpha-numeric]* */
    private static final Pattern PATH_COMPONENT = Pattern.compile(ALNUM + "(?:" + SEPARATOR + ALNUM + ")*");
    /** domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/ */
    private static final String DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    /** host := domain-name | IPv4 (covered by domain-name) | "[" IPv6 "]" ; then optional ":" port */
    private static final Pattern DOMAIN = Pattern.compile(
            "(?:" + DOMAIN_COMPONENT + "(?:\\." + DOMAIN_COMPONENT + ")*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?");
    /** tag := /[\w][\w.-]{0,127}/ */
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*");

    private final String registry;
    private final String repository;
    private final String tag;
    private final Digest digest;

    private ImageReference(String registry, String repository, String tag, Digest digest) {
        this.registry = registry;
        this.repository = repository;
        this.tag = tag;
        this.digest = digest;
    }

    /**
     * Parses a reference strictly, keeping what was written (no defaults applied).
     *
     * @throws InvalidReferenceException naming the rule the input breaks
     */
    public static ImageReference parse(String input) {
        Objects.requireNonNull(input, "reference");
        if (input.isEmpty()) {
            throw new InvalidReferenceException(InvalidReferenceException.Problem.EMPTY, "invalid reference: empty");
        }
        String rest = input;
        Digest digest = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            String digestPart = rest.substring(at + 1);
            rest = rest.substring(0, at);
            try {
                digest = Digest.parse(digestPart);
            } catch (InvalidDigestException e) {
                throw new InvalidReferenceException(InvalidReferenceException.Problem.INVALID_DIGEST,
                        "invalid reference \"" + EchoedInput.of(input) + "\": " + e.getMessage(), e);
            }
        }
        String tag = null;
        int colon = rest.lastIndexOf(':');
        if (colon >= 0 && colon > rest.lastIndexOf('/')) {
            tag = rest.substring(colon + 1);
            rest = rest.substring(0, colon);
            if (tag.length() > TAG_MAX_LENGTH) {
                throw new InvalidReferenceException(InvalidReferenceException.Problem.TAG_TOO_LONG,
                        "invalid reference \"" + EchoedInput.of(input) + "\": tag is " + tag.length()
                                + " characters, at most " + TAG_MAX_LENGTH + " allowed");
            }
            if (!TAG.matcher(tag).matches()) {
                throw new InvalidReferenceException(InvalidReferenceException.Problem.INVALID_TAG,
                        "invalid reference \"" + EchoedInput.of(input) + "\": invalid tag \"" + EchoedInput.of(tag)
                                + "\" (letters, digits, '_', '.', '-'; not starting with '.' or '-')");
            }
        }
        if (rest.isEmpty()) {
            throw new InvalidReferenceException(InvalidReferenceException.Problem.EMPTY,
                    "invalid reference \"" + EchoedInput.of(input) + "\": empty repository name");
        }
        if (rest.length() > NAME_MAX_LENGTH) {
            throw new InvalidReferenceException(InvalidReferenceException.Problem.NAME_TOO_LONG,
                    "invalid reference \"" + EchoedInput.of(input) + "\": name is " + rest.length()
                            + " characters, at most " + NAME_MAX_LENGTH + " allowed");
        }
        String registry = "";
        String path = rest;
        int slash = rest.indexOf('/');
        if (slash >= 0 && isRegistryComponent(rest.substring(0, slash))) {
            registry = rest.substring(0, slash);
            path = rest.substring(slash + 1);
            if (!DOMAIN.matcher(registry).matches()) {
                throw new InvalidReferenceException(InvalidReferenceException.Problem.INVALID_REGISTRY,
                        "invalid reference \"" + EchoedInput.of(input) + "\": invalid registry \"" + EchoedInput.of(registry) + "\"");
            }
        }
        checkPath(input, path);
        return new ImageReference(registry, path, tag, digest);
    }

    /** {@code parse(input).normalized()}. */
    public static ImageReference parseNormalized(String input) {
        return parse(input).normalized();
    }

    /**
     * Distribution's rule: the first component names a registry when it contains a '.' or ':', is
     * {@code localhost}, or is not all lowercase (a repository never has capitals).
     */
    private static boolean isRegistryComponent(String first) {
        return first.contains(".") || first.contains(":") || first.equals("localhost")
                || !first.equals(first.toLowerCase(java.util.Locale.ROOT));
    }

    private static void checkPath(String input, String path) {
        String[] components = path.split("/", -1);
        for (String c : components) {
            if (c.isEmpty()) {
                throw new InvalidReferenceException(InvalidReferenceException.Problem.EMPTY_PATH_COMPONENT,
                        "invalid reference \"" + EchoedInput.of(input) + "\": empty path component in repository \""
                                + EchoedInput.of(path) + "\"");
            }
            if (!PATH_COMPONENT.matcher(c).matches()) {
                String lower = c.toLowerCase(java.util.Locale.ROOT);
                if (!lower.equals(c) && PATH_COMPONENT.matcher(lower).matches()) {
                    throw new InvalidReferenceException(InvalidReferenceException.Problem.UPPERCASE_REPOSITORY,
                            "invalid reference \"" + EchoedInput.of(input) + "\": repository name must be lowercase (\""
                                    + EchoedInput.of(c) + "\")");
                }
                throw new InvalidReferenceException(InvalidReferenceException.Problem.INVALID_PATH_COMPONENT,
                        "invalid reference \"" + EchoedInput.of(input) + "\": invalid path component \"" + EchoedInput.of(c)
                                + "\" (lowercase letters and digits, separated by '.', '_', '__' or '-')");
            }
        }
    }

    /**
     * Applies Docker's defaults: registry {@code docker.io} ({@code index.docker.io} folds into it),
     * {@code library/} for single-name Docker Hub repositories, and tag {@code latest} when there is
     * neither tag nor digest. A normalized reference normalizes to itself.
     */
    public ImageReference normalized() {
        String reg = registry.isEmpty() || registry.equals("index.docker.io") ? DOCKER_HUB : registry;
        String repo = reg.equals(DOCKER_HUB) && !repository.contains("/") ? "library/" + repository : repository;
        String t = tag == null && digest == null ? DEFAULT_TAG : tag;
        ImageReference n = new ImageReference(reg, repo, t, digest);
        if (n.name().length() > NAME_MAX_LENGTH) {
            throw new InvalidReferenceException(InvalidReferenceException.Problem.NAME_TOO_LONG,
                    "invalid reference \"" + EchoedInput.of(toString()) + "\": normalized name is longer than "
                            + NAME_MAX_LENGTH + " characters");
        }
        return n;
    }

    /** Whether {@link #normalized()} would return an equal reference. */
    public boolean isNormalized() {
        return equals(normalized());
    }

    /** The registry as written (empty when none was written). */
    public String registry() {
        return registry;
    }

    /** The repository path, e.g. {@code library/alpine}. */
    public String repository() {
        return repository;
    }

    public Optional<String> tag() {
        return Optional.ofNullable(tag);
    }

    public Optional<Digest> digest() {
        return Optional.ofNullable(digest);
    }

    /** {@code registry/repository} (or only the repository when no registry was written). */
    public String name() {
        return registry.isEmpty() ? repository : registry + "/" + repository;
    }

    /**
     * What to ask the registry for: the digest when pinned, otherwise the tag.
     *
     * @throws IllegalStateException on an un-normalized reference with neither
     */
    public String manifestReference() {
        if (digest != null) {
            return digest.toString();
        }
        if (tag != null) {
            return tag;
        }
        throw new IllegalStateException("reference " + this + " has neither tag nor digest; normalize it first");
    }

    public ImageReference withTag(String newTag) {
        return parse(name() + ":" + newTag + (digest == null ? "" : "@" + digest));
    }

    public ImageReference withDigest(Digest newDigest) {
        return new ImageReference(registry, repository, tag, newDigest);
    }

    /** The same name with only the digest (the tag dropped). */
    public ImageReference byDigest(Digest d) {
        return new ImageReference(registry, repository, null, d);
    }

    /** The fully qualified form: {@code docker.io/library/alpine:latest}, with {@code @digest} when pinned. */
    public String canonical() {
        return normalized().toString();
    }

    /** What Docker shows: {@code alpine:latest}, {@code nigelpoulton/tu-demo:v2}, {@code ghcr.io/x/y:1}. */
    public String familiar() {
        ImageReference n = normalized();
        String name = n.name();
        if (n.registry.equals(DOCKER_HUB)) {
            name = n.repository.startsWith("library/") && n.repository.indexOf('/', 8) < 0
                    ? n.repository.substring(8) : n.repository;
        }
        return name + (n.tag == null ? "" : ":" + n.tag) + (n.digest == null ? "" : "@" + n.digest);
    }

    /** The reference as written: {@code [registry/]repository[:tag][@digest]}. */
    @Override
    public String toString() {
        return name() + (tag == null ? "" : ":" + tag) + (digest == null ? "" : "@" + digest);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ImageReference r && r.registry.equals(registry) && r.repository.equals(repository)
                && Objects.equals(r.tag, tag) && Objects.equals(r.digest, digest);
    }

    @Override
    public int hashCode() {
        return Objects.hash(registry, repository, tag, digest);
    }
}
