package io.imagemirror.reference;

import io.imagemirror.oci.Digest;
import io.imagemirror.oci.EchoedInput;
import io.imagemirror.oci.InvalidDigestException;
import java.util.Objects;
import java.util.Optional;

/**
 * A reference to an image: {@code [registry/]repository[:tag][@digest]}, following the grammar of
 * CNCF distribution's {@code reference} package as {@link ReferenceGrammar} writes it.
 *
 * <p>Parsing and defaulting are two steps. {@link #parse} is strict and keeps what was written:
 * {@code alpine} has no registry and no tag. {@link #normalized} applies Docker's defaults: registry
 * {@code docker.io} (and Docker Hub's aliases folded into it), the {@code library/} namespace for
 * official images, and tag {@code latest} when neither tag nor digest is given. Which upstream a
 * name without registry means on a configured mirror is the router's decision
 * ({@code cache.NameRouter#resolve}), not this class's. With both tag and digest the
 * digest decides and the tag is informational. Immutable; equality is on all four parts.
 */
public final class ImageReference {

    /** The one canonical name of Docker Hub we store; only the upstream client maps it to its API host. */
    public static final String DOCKER_HUB = ReferenceGrammar.DOCKER_HUB;
    public static final String DEFAULT_TAG = ReferenceGrammar.DEFAULT_TAG;
    public static final int NAME_MAX_LENGTH = ReferenceGrammar.NAME_MAX_LENGTH;
    public static final int TAG_MAX_LENGTH = ReferenceGrammar.TAG_MAX_LENGTH;

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
            ReferenceGrammar.checkTag(input, tag);
        }
        String[] name = ReferenceGrammar.splitName(input, rest);
        return new ImageReference(name[0], name[1], tag, digest);
    }

    /**
     * Parses a name alone, {@code [registry/]repository} as in {@code /v2/<name>/...}: strict like
     * {@link #parse}, and a tag or digest is refused (as an invalid path component).
     *
     * @throws InvalidReferenceException naming the rule the name breaks
     */
    public static ImageReference parseName(String name) {
        Objects.requireNonNull(name, "name");
        String[] parts = ReferenceGrammar.splitName(name, name);
        return new ImageReference(parts[0], parts[1], null, null);
    }

    /** A normalized reference to {@code tag} and/or {@code digest} (at least one) of {@code name}. */
    public static ImageReference of(RepositoryName name, String tag, Digest digest) {
        Objects.requireNonNull(name, "name");
        if (tag == null && digest == null) {
            throw new IllegalArgumentException("a reference to " + name + " needs a tag or a digest");
        }
        if (tag != null) {
            ReferenceGrammar.checkTag(name + ":" + tag, tag);
        }
        return new ImageReference(name.registry(), name.path(), tag, digest);
    }

    /** {@code parse(input).normalized()}. */
    public static ImageReference parseNormalized(String input) {
        return parse(input).normalized();
    }

    /**
     * Applies Docker's defaults: registry {@code docker.io} ({@code index.docker.io} folds into it),
     * {@code library/} for single-name Docker Hub repositories, and tag {@code latest} when there is
     * neither tag nor digest. A normalized reference normalizes to itself.
     */
    public ImageReference normalized() {
        RepositoryName n = repositoryName();
        return new ImageReference(n.registry(), n.path(), tag == null && digest == null ? DEFAULT_TAG : tag, digest);
    }

    /**
     * The repository this reference names, with Docker's defaults ({@code docker.io} when no
     * registry was written): the key the index uses.
     *
     * @throws InvalidReferenceException when the canonical name is longer than 255 characters
     */
    public RepositoryName repositoryName() {
        return RepositoryName.of(registry.isEmpty() ? DOCKER_HUB : registry, repository);
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
            String official = ReferenceGrammar.OFFICIAL_NAMESPACE + "/";
            name = n.repository.startsWith(official) && n.repository.indexOf('/', official.length()) < 0
                    ? n.repository.substring(official.length()) : n.repository;
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
