# Sourced by panamio's scripts: a JDK >= 22 (scripts/java-home) on PATH, and Maven kept quiet about its own
# use of sun.misc.Unsafe on JDK 24+ (a warning about Maven's internals, not about panamio).
JAVA_HOME=$(scripts/java-home) || exit 1
export JAVA_HOME PATH="$JAVA_HOME/bin:$PATH"
_panamio_feature=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$JAVA_HOME/release" 2>/dev/null | head -1)
if [ -n "$_panamio_feature" ] && [ "$_panamio_feature" -ge 24 ]; then
  case " ${MAVEN_OPTS:-} " in
    *sun-misc-unsafe-memory-access*) ;;
    *) export MAVEN_OPTS="${MAVEN_OPTS:+$MAVEN_OPTS }--sun-misc-unsafe-memory-access=allow" ;;
  esac
fi
unset _panamio_feature
