package io.imagemirror.reference;

import io.imagemirror.oci.EchoedInput;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The distribution reference grammar and Docker Hub's defaults, in one place: every parser,
 * router and client of image-mirror checks names, tags and registry hosts here, and only here
 * are Docker Hub's aliases folded and {@code library/} added.
 *
 * <pre>
 * reference       := name [ ":" tag ] [ "@" digest ]
 * name            := [ domain "/" ] path
 * domain          := host [ ":" port ]            port 1-65535
 * host            := domain-name | "[" IPv6 "]"   (an IPv4 address is a domain-name)
 * domain-name     := domain-component [ "." domain-component ]*
 * domain-component:= /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
 * path            := path-component [ "/" path-component ]*
 * path-component  := alpha-numeric [ separator alpha-numeric ]*
 * alpha-numeric   := /[a-z0-9]+/
 * separator       := /[_.]|__|[-]+/
 * tag             := /[\w][\w.-]{0,127}/
 * </pre>
 *
 * <p>The first component of a name is a registry when it contains a {@code .} or {@code :} or is
 * {@code localhost}. (Distribution also takes a component with capitals for a host; here it is a
 * repository written in capitals and refused as such, so that every canonical name parses back to
 * itself.)
 *
 * <p>Checking and defaulting are separate calls: the {@code check*}/{@code is*} methods accept or
 * refuse what was written; {@link #canonicalRegistry} and {@link #officialRepository} apply Docker
 * Hub's defaults to a name that already passed them.
 */
public final class ReferenceGrammar {

    /** The one canonical name of Docker Hub that is stored; only the upstream client maps it to its API host. */
    public static final String DOCKER_HUB = "docker.io";
    /** Docker Hub's namespace of official images: {@code alpine} is {@code library/alpine}. */
    public static final String OFFICIAL_NAMESPACE = "library";
    public static final String DEFAULT_TAG = "latest";
    /** The longest {@code registry/path} (or path alone, as written). */
    public static final int NAME_MAX_LENGTH = 255;
    public static final int TAG_MAX_LENGTH = 128;
    public static final int PORT_MAX = 65_535;

    /** Every name Docker Hub goes by; all of them are {@link #DOCKER_HUB}. */
    private static final Set<String> DOCKER_HUB_ALIASES =
            Set.of(DOCKER_HUB, "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com");

    private static final String ALPHA_NUMERIC = "[a-z0-9]+";
    private static final String SEPARATOR = "(?:[._]|__|[-]+)";
    private static final Pattern PATH_COMPONENT =
            Pattern.compile(ALPHA_NUMERIC + "(?:" + SEPARATOR + ALPHA_NUMERIC + ")*");
    private static final String DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    private static final String HOST = "(?:" + DOMAIN_COMPONENT + "(?:\\." + DOMAIN_COMPONENT + ")*|\\[[a-fA-F0-9:]+\\])";
    /** host, then an optional port captured as group 1 (its range is checked apart). */
    private static final Pattern DOMAIN = Pattern.compile(HOST + "(?::([0-9]+))?");
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0," + (TAG_MAX_LENGTH - 1) + "}");

    private ReferenceGrammar() {
    }

    /** Whether {@code s} is a tag: letters, digits, {@code _ . -}, not starting with {@code .} or {@code -}, at most 128. */
    public static boolean isTag(String s) {
        return s != null && TAG.matcher(s).matches();
    }

    /** Whether {@code s} is one path component ({@code alpine}, {@code tu-demo}, {@code bar__baz}). */
    public static boolean isPathComponent(String s) {
        return s != null && PATH_COMPONENT.matcher(s).matches();
    }

    /** Whether {@code s} is a repository path ({@code library/alpine}) of at most 255 characters. */
    public static boolean isRepositoryPath(String s) {
        if (s == null || s.isEmpty() || s.length() > NAME_MAX_LENGTH) {
            return false;
        }
        for (String c : s.split("/", -1)) {
            if (!isPathComponent(c)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The rule that tells a registry from a repository in the first component of a name: it
     * contains a {@code .} or {@code :}, or is {@code localhost}.
     */
    public static boolean looksLikeRegistry(String firstComponent) {
        return firstComponent.contains(".") || firstComponent.contains(":")
                || firstComponent.toLowerCase(Locale.ROOT).equals("localhost");
    }

    /** Whether {@code s} is a registry as references name it: a valid {@code host[:port]} that {@link #looksLikeRegistry}. */
    public static boolean isRegistry(String s) {
        return s != null && looksLikeRegistry(s) && domainProblem(s) == null;
    }

    /**
     * Checks a tag.
     *
     * @param input the whole reference, for the message
     * @throws InvalidReferenceException {@code TAG_TOO_LONG} or {@code INVALID_TAG}
     */
    public static void checkTag(String input, String tag) {
        if (tag.length() > TAG_MAX_LENGTH) {
            throw new InvalidReferenceException(InvalidReferenceException.Problem.TAG_TOO_LONG,
                    prefix(input) + "tag is " + tag.length() + " characters, at most " + TAG_MAX_LENGTH + " allowed");
        }
        if (!isTag(tag)) {
            throw new InvalidReferenceException(InvalidReferenceException.Problem.INVALID_TAG,
                    prefix(input) + "invalid tag \"" + EchoedInput.of(tag)
                            + "\" (letters, digits, '_', '.', '-'; not starting with '.' or '-')");
        }
    }

    /**
     * Checks a repository path component by component.
     *
     * @throws InvalidReferenceException {@code EMPTY_PATH_COMPONENT}, {@code UPPERCASE_REPOSITORY}
     *     or {@code INVALID_PATH_COMPONENT}
     */
    public static void checkPath(String input, String path) {
        for (String c : path.split("/", -1)) {
            if (c.isEmpty()) {
                throw new InvalidReferenceException(InvalidReferenceException.Problem.EMPTY_PATH_COMPONENT,
                        prefix(input) + "empty path component in repository \"" + EchoedInput.of(path) + "\"");
            }
            if (!isPathComponent(c)) {
                if (isPathComponent(c.toLowerCase(Locale.ROOT))) {
                    throw new InvalidReferenceException(InvalidReferenceException.Problem.UPPERCASE_REPOSITORY,
                            prefix(input) + "repository name must be lowercase (\"" + EchoedInput.of(c) + "\")");
                }
                throw new InvalidReferenceException(InvalidReferenceException.Problem.INVALID_PATH_COMPONENT,
                        prefix(input) + "invalid path component \"" + EchoedInput.of(c)
                                + "\" (lowercase letters and digits, separated by '.', '_', '__' or '-')");
            }
        }
    }

    /**
     * Checks a registry: {@code host[:port]} with a port from 1 to 65535, and a host that
     * {@link #looksLikeRegistry} (so that it cannot be read as a repository).
     *
     * @throws InvalidReferenceException {@code INVALID_REGISTRY} naming what is wrong
     */
    public static void checkRegistry(String input, String registry) {
        String problem = looksLikeRegistry(registry) ? domainProblem(registry)
                : ": a registry has a '.' or ':' or is localhost";
        if (problem != null) {
            throw new InvalidReferenceException(InvalidReferenceException.Problem.INVALID_REGISTRY,
                    prefix(input) + "invalid registry \"" + EchoedInput.of(registry) + "\"" + problem);
        }
    }

    /** Why {@code domain} is not {@code host[:port]}, or null when it is. */
    private static String domainProblem(String domain) {
        var m = DOMAIN.matcher(domain);
        if (!m.matches()) {
            return "";
        }
        String port = m.group(1);
        if (port != null) {
            // at most 5 digits before parsing, so "99999999999" neither overflows nor passes
            if (port.length() > 5 || Integer.parseInt(port) < 1 || Integer.parseInt(port) > PORT_MAX) {
                return ": port " + EchoedInput.of(port) + " is not between 1 and " + PORT_MAX;
            }
        }
        return null;
    }

    /**
     * Splits a name as written ({@code [domain/]path}, no tag or digest) into its registry (empty
     * when none was written) and repository path, and checks both.
     *
     * @param input the whole reference, for the message
     * @return {@code {registry, path}}
     * @throws InvalidReferenceException naming the rule the name breaks
     */
    static String[] splitName(String input, String name) {
        if (name.isEmpty()) {
            throw new InvalidReferenceException(InvalidReferenceException.Problem.EMPTY,
                    prefix(input) + "empty repository name");
        }
        if (name.length() > NAME_MAX_LENGTH) {
            throw new InvalidReferenceException(InvalidReferenceException.Problem.NAME_TOO_LONG,
                    prefix(input) + "name is " + name.length() + " characters, at most " + NAME_MAX_LENGTH + " allowed");
        }
        String registry = "";
        String path = name;
        int slash = name.indexOf('/');
        if (slash >= 0 && looksLikeRegistry(name.substring(0, slash))) {
            registry = name.substring(0, slash);
            path = name.substring(slash + 1);
            checkRegistry(input, registry);
        }
        checkPath(input, path);
        return new String[] {registry, path};
    }

    /**
     * The one name of a registry: lowercase, with every Docker Hub alias ({@code index.docker.io},
     * {@code registry-1.docker.io}, {@code registry.hub.docker.com}) folded into {@code docker.io}.
     * Does not validate; check the registry first.
     */
    public static String canonicalRegistry(String registry) {
        String r = registry.toLowerCase(Locale.ROOT);
        return DOCKER_HUB_ALIASES.contains(r) ? DOCKER_HUB : r;
    }

    /**
     * Docker Hub's {@code library/} default: a one-component repository on {@code docker.io} is
     * an official image, {@code library/<name>}. Every other path is returned as is, so the
     * namespace is added exactly once.
     *
     * @param canonicalRegistry a registry already passed through {@link #canonicalRegistry}
     */
    public static String officialRepository(String canonicalRegistry, String path) {
        return canonicalRegistry.equals(DOCKER_HUB) && path.indexOf('/') < 0 ? OFFICIAL_NAMESPACE + "/" + path : path;
    }

    private static String prefix(String input) {
        return "invalid reference \"" + EchoedInput.of(input) + "\": ";
    }
}
