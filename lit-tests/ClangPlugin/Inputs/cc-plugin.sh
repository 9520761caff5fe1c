#!/bin/sh
# A compiler for ckpt_cycle.py's --cc: the instrumented build (the one given -fpass-plugin) also
# gets the clang plugin, so that its pragmas act; the plain reference build stays plain clang
# (which ignores them).  $CC_PLUGIN_CLANG and $CC_PLUGIN name the clang and the plugin.
case " $* " in
  *" -fpass-plugin="*) exec "$CC_PLUGIN_CLANG" "-fplugin=$CC_PLUGIN" "$@" ;;
  *) exec "$CC_PLUGIN_CLANG" -Wno-unknown-pragmas "$@" ;;
esac
