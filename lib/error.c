#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct md_error out_of_memory = {
	.code = MD_ERR_NOMEM,
	.message = "out of memory",
};

static struct md_error *error_vcreate(enum md_error_code code, struct md_error *cause,
				      const char *fmt, va_list ap)
{
	struct md_error *err = malloc(sizeof(*err));

	if (!err || vasprintf(&err->message, fmt, ap) < 0) {
		free(err);
		md_error_destroy(cause);
		return &out_of_memory;
	}
	err->code = code;
	err->cause = cause;
	return err;
}

struct md_error *md_error_create(enum md_error_code code, const char *fmt, ...)
{
	struct md_error *err;
	va_list ap;

	va_start(ap, fmt);
	err = error_vcreate(code, NULL, fmt, ap);
	va_end(ap);
	return err;
}

struct md_error *md_error_wrap(struct md_error *cause, const char *fmt, ...)
{
	struct md_error *err;
	va_list ap;

	va_start(ap, fmt);
	err = error_vcreate(cause->code, cause, fmt, ap);
	va_end(ap);
	return err;
}

void md_error_destroy(struct md_error *err)
{
	while (err && err != &out_of_memory) {
		struct md_error *cause = err->cause;

		free(err->message);
		free(err);
		err = cause;
	}
}

char *md_error_string(const struct md_error *err)
{
	size_t len = 1;
	const struct md_error *e;
	char *s;

	for (e = err; e; e = e->cause)
		len += strlen(e->message) + 2;
	s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (e = err; e; e = e->cause) {
		strcat(s, e->message);
		if (e->cause)
			strcat(s, ": ");
	}
	return s;
}

enum md_error_code md_error_root_code(const struct md_error *err)
{
	while (err->cause)
		err = err->cause;
	return err->code;
}

void md_messages_add(char ***list, size_t *n, const char *fmt, ...)
{
	char **grown = *list;
	char *msg;
	va_list ap;
	int len;

	/* The room doubles at each power of two: a corrupt dump can give a
	 * walk a message per slab, and growing by one would copy n^2. */
	if (!(*n & (*n - 1))) {
		if (!(grown = realloc(*list, (*n ? 2 * *n : 1) * sizeof(char *))))
			return;
		*list = grown;
	}
	va_start(ap, fmt);
	len = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (len >= 0)
		grown[(*n)++] = msg;
}

void md_messages_add_error(char ***list, size_t *n, struct md_error *err)
{
	char *msg = md_error_string(err);

	md_messages_add(list, n, "%s", msg ? msg : "out of memory");
	free(msg);
	md_error_destroy(err);
}

void md_messages_free(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

struct md_error *md_error_nomem(void)
{
	return md_error_create(MD_ERR_NOMEM, "out of memory");
}

void md_error_keep_first(struct md_error **first, struct md_error *err)
{
	if (!*first)
		*first = err;
	else
		md_error_destroy(err);
}

bool md_error_catch(struct md_error **err, enum md_error_code code)
{
	if (!*err || md_error_root_code(*err) != code)
		return false;
	md_error_destroy(*err);
	*err = NULL;
	return true;
}
