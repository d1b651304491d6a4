/* The policy language's declaration functions: rule "name" {...}, stage "name" {...} and
 * pipeline "name" {...}. They only record what a file declares, with its file:line; compile.c
 * turns the records into C structures once every file has run. */
#ifndef VD_POLICY_DSL_H
#define VD_POLICY_DSL_H

#include <lua.h>

/* Registry field holding {rules = {...}, pipelines = {...}}; each record is
 * {name = s, file = s, line = n, spec = table or nil}. */
#define VD_DSL_DECLS "verdict.decls"

/* Field marking a table made by stage "name" {...} or plugin "name" {...}. */
#define VD_DSL_STAGE_MARK "__verdict_stage"

/* Field marking a table made by plugin "name" {...}. */
#define VD_DSL_PLUGIN_MARK "__verdict_plugin"

/* Installs rule, stage and pipeline as globals and creates the registry records. */
void vd_dsl_open(lua_State *L);

#endif
