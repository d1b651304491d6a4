#include "config.h"

#include <string.h>

void vd_config_defaults(vd_config_t *c) {
    memset(c, 0, sizeof *c); /* what is not named below is off, NULL or 0 */
    c->socket_path = "./verdict.sock";
    c->policy_dir = "./policies";
    c->metrics_addr = NULL;
    c->workers = 0;
    c->socket_mode = 0660;
    c->admin_socket_path = NULL;
    c->admin_socket_mode = 0600;
    c->max_request = (size_t)1 << 20;
    c->write_high_water = (size_t)4 << 20;
    c->drain_timeout_ms = 10000;
    c->idle_timeout_ms = 300000;
    c->max_connections = 10000;
    c->request_timeout_ms = 10000;
    c->deadline_ms = 0;
    c->max_pending = 10000;
    c->max_pending_bytes = (size_t)64 << 20;
    c->decision_log_max_bytes = (size_t)1 << 30;
    c->decision_log_max_age_s = 86400;
    c->decision_log_keep = 14;
    c->decision_log_buffer = (size_t)32 << 20;
    c->state_bytes = (size_t)256 << 20;
    c->campaign_bytes = (size_t)64 << 20;
    c->report_limit = 100;
    c->state_snapshot = NULL;
    c->state_snapshot_interval_s = 60;
    c->list_check_ms = 1000;
    c->redis_address = NULL;
    c->redis_prefix = "verdict:";
    c->redis_timeout_ms = 50;
    c->redis_user = c->redis_password = NULL;
    c->plugin_dirs = NULL;
    c->nplugin_dirs = 0;
    c->lua.mem_limit = (size_t)256 << 20;
    c->lua.call_mem_limit = (size_t)32 << 20;
    c->lua.instr_limit = 1000000;
    c->lua.regex_limit = 100000;
}
