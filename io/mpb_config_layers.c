/* Where a tensor sits in the model: its layer, and its position for
 * gradients. */
#include "mpb_config_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Length of the dot-separated segment starting at s. */
static size_t segment_length(const char *s)
{
    const char *dot = strchr(s, '.');
    return dot ? (size_t)(dot - s) : strlen(s);
}

static bool segment_is(const char *s, size_t n, const char *word)
{
    return n == strlen(word) && strncmp(s, word, n) == 0;
}

/* The segment as a layer number, or -1 when it is not digits only. */
static int segment_number(const char *s, size_t n)
{
    if (n == 0 || n > 9)
        return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Where the layer number of a name starts (its segment's length in *len),
 * or NULL when it has none.  prefix NULL: after a "layers" or "h" segment;
 * else right after prefix (a module's "visual.blocks."), at the start. */
static const char *layer_segment(const char *tensor_name, const char *prefix, size_t *len)
{
    if (prefix != NULL) {
        size_t n = strlen(prefix);
        const char *at = tensor_name + n;
        if (strncmp(tensor_name, prefix, n) != 0 || segment_number(at, segment_length(at)) < 0)
            return NULL;
        *len = segment_length(at);
        return at;
    }
    const char *s = tensor_name;
    while (*s != '\0') {
        size_t n = segment_length(s);
        const char *next = s[n] == '.' ? s + n + 1 : s + n;
        if ((segment_is(s, n, "layers") || segment_is(s, n, "h")) && *next != '\0' &&
            segment_number(next, segment_length(next)) >= 0) {
            *len = segment_length(next);
            return next;
        }
        s = next;
    }
    return NULL;
}

const char *mpb_tensor_with_layer_in(const char *tensor_name, const char *prefix, int layer,
                                     char *buf, size_t len)
{
    size_t n;
    const char *at = layer_segment(tensor_name, prefix, &n);
    if (at == NULL)
        snprintf(buf, len, "%s", tensor_name);
    else
        snprintf(buf, len, "%.*s%d%s", (int)(at - tensor_name), tensor_name, layer, at + n);
    return buf;
}

const char *mpb_tensor_with_layer(const char *tensor_name, int layer, char *buf, size_t len)
{
    return mpb_tensor_with_layer_in(tensor_name, NULL, layer, buf, len);
}

int mpb_tensor_layer_in(const char *tensor_name, const char *prefix)
{
    size_t n;
    const char *at = layer_segment(tensor_name, prefix, &n);
    return at ? segment_number(at, n) : -1;
}

int mpb_tensor_layer(const char *tensor_name)
{
    return mpb_tensor_layer_in(tensor_name, NULL);
}

bool mpb_tensor_before_layers(const char *tensor_name)
{
    if (strstr(tensor_name, "embed") != NULL)
        return true;
    for (const char *s = tensor_name; *s != '\0';) {
        size_t n = segment_length(s);
        if (segment_is(s, n, "wte") || segment_is(s, n, "wpe"))
            return true;
        s += s[n] == '.' ? n + 1 : n;
    }
    return false;
}

double mpb_tensor_position(const char *tensor_name, int n_layers, double after_layers)
{
    int layer = mpb_tensor_layer(tensor_name);
    if (layer < 0)
        return mpb_tensor_before_layers(tensor_name) ? 0.0 : after_layers;
    if (layer >= n_layers)
        return -1.0;
    /* mergekit: t = i / (L - 1), and t = 1 for a single layer. */
    return n_layers > 1 ? (double)layer / (double)(n_layers - 1) : 1.0;
}
