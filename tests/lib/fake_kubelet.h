/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A stand-in for the kubelet's /pods endpoint for tests: HTTPS on 127.0.0.1 (libmicrohttpd +
 * GnuTLS, certificates made at test time with the openssl CLI), bearer token checked,
 * a PodList served from memory or a fixture file, and faults on demand. Runs on its own
 * threads, so the code under test can drive its event loop on the test's thread.
 */
#ifndef LMP_FAKE_KUBELET_H
#define LMP_FAKE_KUBELET_H

#include <stddef.h>
#include <stdint.h>

enum fake_kubelet_fault {
	FK_OK,
	FK_401, /* whatever the token */
	FK_403,
	FK_500,
	FK_NOT_JSON,	 /* 200 with an HTML error page */
	FK_CUT_JSON,	 /* 200, complete HTTP reply, JSON cut in the middle */
	FK_CUT_TRANSFER, /* Content-Length promises the whole body, connection drops halfway */
	FK_SLOW,	 /* good reply after slow_ms */
};

enum fake_kubelet_cert {
	FK_CERT_GOOD,	    /* signed by ca.crt, names 127.0.0.1 and localhost */
	FK_CERT_OTHER_CA,   /* right names, signed by a CA the client does not trust */
	FK_CERT_WRONG_NAME, /* signed by ca.crt, names only wrong.example */
};

struct fake_kubelet;

/*
 * Make certificates in dir (created if needed) and listen on 127.0.0.1 (port 0: any).
 * Returns 0 or -errno, with a reason on stderr.
 */
int fake_kubelet_start(const char *dir, uint16_t port, struct fake_kubelet **out);
void fake_kubelet_free(struct fake_kubelet *fk);

uint16_t fake_kubelet_port(const struct fake_kubelet *fk);
/* "https://127.0.0.1:<port>/pods" */
const char *fake_kubelet_url(const struct fake_kubelet *fk);
/* the CA that signs the good certificate */
const char *fake_kubelet_ca_file(const struct fake_kubelet *fk);

/* The bearer token required from now on (NULL: none required). */
void fake_kubelet_set_token(struct fake_kubelet *fk, const char *token);
int fake_kubelet_set_body(struct fake_kubelet *fk, const char *json, size_t len);
int fake_kubelet_set_body_file(struct fake_kubelet *fk, const char *path);
void fake_kubelet_set_fault(struct fake_kubelet *fk, enum fake_kubelet_fault f, unsigned slow_ms);
/* Serve another certificate from now on (restarts TLS on the same port). */
int fake_kubelet_set_cert(struct fake_kubelet *fk, enum fake_kubelet_cert c);
/* Close the port (connections are refused) / open it again. */
void fake_kubelet_down(struct fake_kubelet *fk);
int fake_kubelet_up(struct fake_kubelet *fk);

/* Serve the PodList on another path (an API-server stand-in: "/api/v1/pods"). */
void fake_kubelet_set_path(struct fake_kubelet *fk, const char *path);
/* the fieldSelector query argument of the last request ("" if none) */
void fake_kubelet_field_selector(struct fake_kubelet *fk, char *buf, size_t len);

/* requests seen for /pods, and how many of those had a wrong or missing token */
unsigned fake_kubelet_requests(struct fake_kubelet *fk);
unsigned fake_kubelet_token_rejects(struct fake_kubelet *fk);

/*
 * A PodList body of about size bytes: pods with a bulky spec and annotations, as real ones
 * have. Malloc'd (NULL when out of memory); *len its length, *pods how many pods.
 */
char *fake_kubelet_big_podlist(size_t size, size_t *len, unsigned *pods);

#endif /* LMP_FAKE_KUBELET_H */
