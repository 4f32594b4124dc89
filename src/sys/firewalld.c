/* SPDX-License-Identifier: MIT */
/*
 * firewalld over D-Bus, with sd-bus from libsystemd.
 *
 * libsystemd is dlopen()ed by firewalld_open, not linked: it pulls in eight
 * more libraries, and every nsgate command would pay for loading them while
 * only hosts running firewalld need it. The few functions used are looked
 * up into the handle, typed by the header's own declarations.
 *
 * Every call has a deadline (FWD_TIMEOUT_USEC), the connection's start
 * included: a firewalld (or a bus) that hangs costs an `up` seconds, never
 * forever. Method calls and signals use separate connections: sd_bus_call
 * queues whatever signal arrives while it waits for its reply, where poll()
 * on the descriptor would never see it; the signal connection carries no
 * calls after its matches are set, so its descriptor tells the truth.
 */
#include <dlfcn.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-bus.h>

#include "nsgate/firewalld.h"

#define FWD_LIB "libsystemd.so.0"
#define FWD_BUS_DEFAULT "unix:path=/run/dbus/system_bus_socket"
#define FWD_NAME "org.fedoraproject.FirewallD1"
#define FWD_PATH "/org/fedoraproject/FirewallD1"
#define FWD_IFACE_ZONE FWD_NAME ".zone"
/* firewalld's errors: this name, and a message "CODE: detail". */
#define FWD_ERR_EXCEPTION FWD_NAME ".Exception"
#define FWD_ERR_NOT_AUTHORIZED FWD_NAME ".NotAuthorizedException"
#define FWD_TIMEOUT_USEC (5 * 1000 * 1000ULL)

/* The functions of libsystemd nsgate calls. */
struct sdb {
	__typeof__(sd_bus_new) *new_;
	__typeof__(sd_bus_set_address) *set_address;
	__typeof__(sd_bus_set_bus_client) *set_bus_client;
	__typeof__(sd_bus_set_method_call_timeout) *set_method_call_timeout;
	__typeof__(sd_bus_start) *start;
	__typeof__(sd_bus_is_ready) *is_ready;
	__typeof__(sd_bus_get_fd) *get_fd;
	__typeof__(sd_bus_get_events) *get_events;
	__typeof__(sd_bus_process) *process;
	__typeof__(sd_bus_close_unref) *close_unref;
	__typeof__(sd_bus_call_method) *call_method;
	__typeof__(sd_bus_add_match) *add_match;
	__typeof__(sd_bus_message_read) *message_read;
	__typeof__(sd_bus_message_unref) *message_unref;
	__typeof__(sd_bus_error_free) *error_free;
};

#define SDB_SYM(fn, field) { #fn, offsetof(struct sdb, field) }
static const struct {
	const char *name;
	size_t off;
} sdb_syms[] = {
	SDB_SYM(sd_bus_new, new_),
	SDB_SYM(sd_bus_set_address, set_address),
	SDB_SYM(sd_bus_set_bus_client, set_bus_client),
	SDB_SYM(sd_bus_set_method_call_timeout, set_method_call_timeout),
	SDB_SYM(sd_bus_start, start),
	SDB_SYM(sd_bus_is_ready, is_ready),
	SDB_SYM(sd_bus_get_fd, get_fd),
	SDB_SYM(sd_bus_get_events, get_events),
	SDB_SYM(sd_bus_process, process),
	SDB_SYM(sd_bus_close_unref, close_unref),
	SDB_SYM(sd_bus_call_method, call_method),
	SDB_SYM(sd_bus_add_match, add_match),
	SDB_SYM(sd_bus_message_read, message_read),
	SDB_SYM(sd_bus_message_unref, message_unref),
	SDB_SYM(sd_bus_error_free, error_free),
};

struct firewalld {
	struct sdb api;
	sd_bus *bus;            /* method calls */
	sd_bus *sig;            /* signals only (firewalld_subscribe), or NULL */
	bool changed;           /* a signal came since the last firewalld_process */
};

/* One method call's reply and error, freed through the handle's table. */
struct fwd_call {
	const struct sdb *api;
	sd_bus_error err;
	sd_bus_message *reply;
};

static void fwd_call_done(struct fwd_call *c)
{
	c->api->error_free(&c->err);
	if (c->reply)
		c->api->message_unref(c->reply);
}
#define _cleanup_call_ _cleanup_(fwd_call_done)
#define FWD_CALL(fw) { .api = &(fw)->api, .err = SD_BUS_ERROR_NULL, .reply = NULL }

/* libsystemd stays loaded for the life of the process once opened: its
 * dependencies' destructors are not meant to run mid-process, and a watch
 * that re-opens would only load it again. */
static int sdb_load(struct sdb *api, struct nsg_err *e)
{
	void *lib = dlopen(FWD_LIB, RTLD_NOW | RTLD_LOCAL);

	if (!lib)
		return nsg_fail_kind(e, NSG_KIND_UNSUPPORTED, -EOPNOTSUPP,
				     "not installed: nsgate talks to firewalld through its sd-bus",
				     "%s", FWD_LIB);
	for (size_t i = 0; i < ARRAY_SIZE(sdb_syms); i++) {
		void *p = dlsym(lib, sdb_syms[i].name);

		if (!p)
			return nsg_fail_kind(e, NSG_KIND_UNSUPPORTED, -EOPNOTSUPP,
					     "too old: it lacks a function nsgate needs (systemd 240 or later has it)",
					     "%s (%s)", FWD_LIB, sdb_syms[i].name);
		memcpy((char *)api + sdb_syms[i].off, &p, sizeof(p));
	}
	return 0;
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Drive the connection's authentication and Hello to the end within the
 * deadline: left to itself, sd-bus waits 90 s for a bus that never
 * finishes authenticating. */
static int bus_wait_ready(const struct sdb *api, sd_bus *bus)
{
	uint64_t end = now_usec() + FWD_TIMEOUT_USEC;

	for (;;) {
		struct pollfd p = { .fd = api->get_fd(bus) };
		uint64_t now;
		int r;

		r = api->is_ready(bus);
		if (r != 0)
			return r < 0 ? r : 0;
		r = api->process(bus, NULL);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		now = now_usec();
		if (now >= end)
			return -ETIMEDOUT;
		r = api->get_events(bus);
		if (r < 0)
			return r;
		p.events = (short)r;
		if (poll(&p, 1, (int)((end - now + 999) / 1000)) < 0 && errno != EINTR)
			return -errno;
	}
}

/* A connection of its own to the system bus, as sd_bus_open_system makes
 * it (the same address), but with nsgate's deadline from the start. */
static int bus_connect(const struct sdb *api, sd_bus **ret, struct nsg_err *e)
{
	const char *addr = secure_getenv("DBUS_SYSTEM_BUS_ADDRESS");
	sd_bus *bus = NULL;
	int r;

	if (!addr || !*addr)
		addr = FWD_BUS_DEFAULT;
	r = api->new_(&bus);
	if (r < 0)
		return nsg_fail(e, r, NULL, "D-Bus connection");
	if ((r = api->set_address(bus, addr)) < 0 || (r = api->set_bus_client(bus, 1)) < 0 ||
	    (r = api->set_method_call_timeout(bus, FWD_TIMEOUT_USEC)) < 0) {
		api->close_unref(bus);
		return nsg_fail(e, r, NULL, "system bus \"%s\"", addr);
	}
	r = api->start(bus);
	if (r >= 0)
		r = bus_wait_ready(api, bus);
	if (r < 0) {
		api->close_unref(bus);
		if (r == -ETIMEDOUT)
			return nsg_fail(e, r, "it did not answer within 5 s", "system bus \"%s\"", addr);
		if (r == -ENOENT || r == -ECONNREFUSED)
			return nsg_fail(e, r, "no D-Bus system bus runs there", "system bus \"%s\"", addr);
		return nsg_fail(e, r, NULL, "system bus \"%s\"", addr);
	}
	*ret = bus;
	return 0;
}

int firewalld_open(struct firewalld **ret, struct nsg_err *e)
{
	_cleanup_free_ struct firewalld *fw = calloc(1, sizeof(*fw));
	int r;

	if (!fw)
		return nsg_fail(e, -ENOMEM, NULL, "firewalld");
	r = sdb_load(&fw->api, e);
	if (r < 0)
		return r;
	r = bus_connect(&fw->api, &fw->bus, e);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(fw);
	return 0;
}

void firewalld_close(struct firewalld *fw)
{
	if (!fw)
		return;
	/* No flush: every call waited for its reply, nothing is queued,
	 * and a flush would wait on a hung bus without a deadline. */
	if (fw->sig)
		fw->api.close_unref(fw->sig);
	fw->api.close_unref(fw->bus);
	free(fw);
}

/* firewalld's error code, the text before the first ':' of its message
 * ("ZONE_ALREADY_SET: 'nsg-+' already bound to 'trusted'"), is code. */
static bool fwd_code_is(const sd_bus_error *err, const char *code)
{
	size_t n = strlen(code);

	return err->name && strcmp(err->name, FWD_ERR_EXCEPTION) == 0 && err->message &&
	       strncmp(err->message, code, n) == 0 && (err->message[n] == ':' || !err->message[n]);
}

/* The errno and reason of a failed call (r from sd-bus, err its error):
 * firewalld's codes by meaning, the bus's own errors in plain words. */
static int fwd_call_fail(int r, const sd_bus_error *err, struct nsg_err *e, const char *what)
{
	const char *name = err->name ? err->name : "";

	/* Gone is one errno, whenever it went: before the call (no owner of
	 * its name) or during it (the bus's NoReply: "recipient
	 * disconnected"), as a restart does; sd-bus would say ENXIO,
	 * EHOSTUNREACH or, for the second, ETIMEDOUT. */
	if (!strcmp(name, SD_BUS_ERROR_SERVICE_UNKNOWN) || !strcmp(name, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
		return nsg_fail(e, -EHOSTUNREACH, "firewalld is not running", "%s", what);
	if (!strcmp(name, SD_BUS_ERROR_NO_REPLY))
		return nsg_fail(e, -EHOSTUNREACH, "firewalld stopped before it answered", "%s", what);
	if (r == -ETIMEDOUT)
		return nsg_fail(e, r, "firewalld did not answer within 5 s", "%s", what);
	if (!strcmp(name, FWD_ERR_NOT_AUTHORIZED) || fwd_code_is(err, "ACCESS_DENIED"))
		r = -EACCES;
	else if (fwd_code_is(err, "ZONE_CONFLICT"))
		r = -EEXIST;
	else if (fwd_code_is(err, "INVALID_ZONE"))
		r = -ENOENT;
	else if (fwd_code_is(err, "INVALID_INTERFACE"))
		r = -EINVAL;
	else if (!strcmp(name, FWD_ERR_EXCEPTION))
		r = -EIO;
	nsg_fail(e, r, NULL, "%s", what);
	if (err->message)
		nsg_why(e, "%s: %s", !strncmp(name, FWD_NAME, strlen(FWD_NAME)) ? "firewalld" : name,
			err->message);
	return r;
}

int firewalld_running(struct firewalld *fw, struct nsg_err *e)
{
	_cleanup_call_ struct fwd_call c = FWD_CALL(fw);
	int has = 0, r;

	r = fw->api.call_method(fw->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
				"org.freedesktop.DBus", "NameHasOwner", &c.err, &c.reply, "s", FWD_NAME);
	if (r < 0)
		return fwd_call_fail(r, &c.err, e, "the system bus");
	r = fw->api.message_read(c.reply, "b", &has);
	if (r < 0)
		return nsg_fail(e, r, "unexpected reply to NameHasOwner", "the system bus");
	return has ? 1 : 0;
}

int firewalld_zone_of(struct firewalld *fw, const char *iface, char *zone, size_t len,
		      struct nsg_err *e)
{
	_cleanup_call_ struct fwd_call c = FWD_CALL(fw);
	char what[96];
	const char *z = NULL;
	int r;

	snprintf(what, sizeof(what), "firewalld zone of \"%.32s\"", iface);
	r = fw->api.call_method(fw->bus, FWD_NAME, FWD_PATH, FWD_IFACE_ZONE, "getZoneOfInterface",
				&c.err, &c.reply, "s", iface);
	if (r < 0)
		return fwd_call_fail(r, &c.err, e, what);
	r = fw->api.message_read(c.reply, "s", &z);
	if (r < 0)
		return nsg_fail(e, r, "unexpected reply from firewalld", "%s", what);
	if ((size_t)snprintf(zone, len, "%s", z) >= len)
		return nsg_fail(e, -ENAMETOOLONG, "the zone's name is too long", "%s", what);
	return 0;
}

/* addInterface or removeInterface(zone, iface) -> s; the firewalld codes
 * in ok (NULL-terminated) say it is so already. */
static int fwd_zone_change(struct firewalld *fw, const char *method, const char *zone,
			   const char *iface, const char *const *ok, struct nsg_err *e)
{
	_cleanup_call_ struct fwd_call c = FWD_CALL(fw);
	char what[128];
	int r;

	r = fw->api.call_method(fw->bus, FWD_NAME, FWD_PATH, FWD_IFACE_ZONE, method, &c.err,
				&c.reply, "ss", zone, iface);
	if (r >= 0)
		return 0;
	for (; *ok; ok++)
		if (fwd_code_is(&c.err, *ok))
			return 0;
	snprintf(what, sizeof(what), "interface \"%.32s\" in firewalld zone \"%.32s\"", iface, zone);
	return fwd_call_fail(r, &c.err, e, what);
}

int firewalld_zone_add(struct firewalld *fw, const char *zone, const char *iface,
		       struct nsg_err *e)
{
	static const char *const ok[] = { "ZONE_ALREADY_SET", NULL };

	return fwd_zone_change(fw, "addInterface", zone, iface, ok, e);
}

int firewalld_zone_remove(struct firewalld *fw, const char *zone, const char *iface,
			  struct nsg_err *e)
{
	/* UNKNOWN_INTERFACE: in no zone; ZONE_CONFLICT: in another zone,
	 * someone else's binding and not nsgate's to undo; NOT_ENABLED: what
	 * older firewalld versions say for the first. */
	static const char *const ok[] = { "UNKNOWN_INTERFACE", "ZONE_CONFLICT", "NOT_ENABLED", NULL };

	return fwd_zone_change(fw, "removeInterface", zone, iface, ok, e);
}

static int fwd_on_signal(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct firewalld *fw = userdata;

	fw->changed = true;
	return 0;
}

/* Dispatch everything sd-bus has read or can read without waiting. */
static int fwd_drain(struct firewalld *fw)
{
	int r;

	while ((r = fw->api.process(fw->sig, NULL)) > 0)
		;
	return r;
}

int firewalld_subscribe(struct firewalld *fw, struct nsg_err *e)
{
	/* Reloaded: firewall-cmd --reload dropped the runtime bindings;
	 * NameOwnerChanged for firewalld's name: it stopped or started. */
	static const char *const matches[] = {
		"type='signal',sender='" FWD_NAME "',path='" FWD_PATH "',interface='" FWD_NAME
		"',member='Reloaded'",
		"type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
		"interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='" FWD_NAME "'",
	};
	int r;

	if (fw->sig)
		return 0;
	r = bus_connect(&fw->api, &fw->sig, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(matches); i++) {
		r = fw->api.add_match(fw->sig, NULL, matches[i], fwd_on_signal, fw);
		if (r < 0)
			break;
	}
	if (r >= 0)
		r = fwd_drain(fw);
	if (r < 0) {
		fw->sig = fw->api.close_unref(fw->sig);
		return nsg_fail(e, r, r == -ETIMEDOUT ? "it did not answer within 5 s" : NULL,
				"firewalld signals on the system bus");
	}
	return 0;
}

int firewalld_fd(struct firewalld *fw)
{
	return fw->sig ? fw->api.get_fd(fw->sig) : -EBADF;
}

int firewalld_process(struct firewalld *fw, bool *changed, struct nsg_err *e)
{
	int r;

	*changed = false;
	if (!fw->sig)
		return nsg_fail(e, -EBADF, "not subscribed", "firewalld signals");
	r = fwd_drain(fw);
	if (r < 0)
		return nsg_fail(e, r, r == -ECONNRESET || r == -ENOTCONN ?
				"the system bus closed the connection" : NULL,
				"firewalld signals");
	*changed = fw->changed;
	fw->changed = false;
	return 0;
}
