/* The provider section: a list of providers, each made public by a provider plugin.
 *
 * provider = ( { name = "web"; plugin = "exec"; preset = "ssh"; local = "127.0.0.1:3000"; ... } );
 *
 * The core reads `name` (unique, it names the state file and log lines) and `plugin`
 * (default "exec", the provider-exec plugin); the plugin's provider_new reads the rest, here,
 * so `proxyd -t` reports a provider's bad or unknown keys. */
#include "config.h"
#include "conf.h"
#include "plugins.h"
#include "provider.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void read_entry(struct conf *c, const proxyd_cfg *e, int i, struct proxyd_provider ***tail)
{
	if (!cfg_is_group(e)) {
		cfg_error(e, "provider[%d]: expected a group { name = ...; preset = ...; local = ...; }", i);
		return;
	}
	const char *name = NULL, *plugin = "exec";
	int bad_name = 0;
	int rc = cfg_get_string(e, "name", &name);
	if (rc == -ENOENT) {
		cfg_error(e, "provider[%d]: 'name' is required", i);
		bad_name = 1;
	} else if (rc < 0) {
		bad_name = 1;
	} else if (!conf_valid_id(name)) {
		cfg_error(cfg_get_child(e, "name"),
			  "provider[%d]: name '%s': expected 1-64 of A-Z a-z 0-9 . _ -", i, name);
		bad_name = 1;
	} else {
		for (int j = 0; j < i; j++) {
			const char *other;
			if (cfg_get_string(cfg_elem(c->provider, j), "name", &other) == 0 &&
			    strcmp(other, name) == 0) {
				cfg_error(cfg_get_child(e, "name"), "provider[%d]: name '%s' is used twice",
					  i, name);
				bad_name = 1;
				break;
			}
		}
	}
	rc = cfg_get_string(e, "plugin", &plugin);
	if (rc == -EINVAL)
		return;
	struct proxyd_plugin *pl = plugins_find(PROXYD_KIND_PROVIDER, plugin);
	if (!pl) {
		char dirs[1024];
		conf_search_path(c, dirs, sizeof dirs);
		cfg_error(rc == 0 ? cfg_get_child(e, "plugin") : e,
			  "provider[%d]: provider '%s' is not available: no plugin provider-%s loaded "
			  "from %s",
			  i, plugin, plugin, dirs);
		return;
	}
	struct proxyd_provider *p = calloc(1, sizeof *p);
	if (!p)
		return;
	snprintf(p->name, sizeof p->name, "%s", bad_name ? "" : name);
	p->plugin = pl;
	int errors = c->file.n_errors;
	if (pl->ops.provider.provider_new(pl->state, e, p, &p->state) != 0) {
		if (c->file.n_errors == errors)
			cfg_error(e, "provider[%d] '%s': the %s plugin refused the entry", i, name,
				  plugin);
		p->state = NULL;
		provider_handle_free(p);
		return;
	}
	if (bad_name) { /* made only so the plugin checks the rest of the entry */
		provider_handle_free(p);
		return;
	}
	**tail = p;
	*tail = &p->next;
	c->n_providers++;
}

void conf_provider_check(struct conf *c)
{
	if (!c->provider)
		return;
	if (!cfg_is_list(c->provider)) {
		cfg_error(c->provider,
			  "provider: expected a list ( { name = \"web\"; preset = \"ssh\"; local = ...; } )");
		return;
	}
	struct proxyd_provider **tail = &c->providers;
	for (int i = 0; i < cfg_count(c->provider); i++)
		read_entry(c, cfg_elem(c->provider, i), i, &tail);
}

void conf_provider_fini(struct conf *c)
{
	while (c->providers) {
		struct proxyd_provider *p = c->providers;
		c->providers = p->next;
		provider_handle_free(p);
	}
	c->n_providers = 0;
}
