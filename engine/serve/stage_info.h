/* What a plugin stage says about itself (setup_describe: model versions), as a msgpack map;
 * the pipelines and stats methods both show it. */
#ifndef VD_STAGE_INFO_H
#define VD_STAGE_INFO_H

#include "plugin/stage.h"
#include "policy/policy.h"

#include <msgpack.h>

void vd_pack_stage_info(msgpack_packer *pk, const vd_plugin_stage_t *ps);

/* Packs "plugins" and an array of {pipeline, stage, plugin, version, info}, one per plugin
 * stage of p (the stats method and the decision log's manifest). */
void vd_pack_plugin_stages(msgpack_packer *pk, const vd_policy_t *p);

#endif
