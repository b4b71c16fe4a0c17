#include "mpb_plot_svg.h"

#include "mpb_sweep_manifest.h"

#include <errno.h>
#include <math.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

const char *const mpb_svg_palette[8] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                        "#9467bd", "#8c564b", "#e377c2", "#17becf"};

void mpb_svg_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '"')
            fputs("&quot;", f);
        else
            fputc(*s, f);
    }
}

void mpb_svg_begin(FILE *f, double w, double h, const char *title)
{
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
            "<text x=\"70\" y=\"22\" font-size=\"15\">",
            w, h, w, h);
    mpb_svg_text(f, title);
    fprintf(f, "</text>\n");
}

void mpb_svg_end(FILE *f)
{
    fprintf(f, "</svg>\n");
}

void mpb_svg_range(const double *v, size_t n, double pad, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        *lo = fmin(*lo, v[i]);
        *hi = fmax(*hi, v[i]);
    }
    if (!(*hi - *lo >= 1e-12 * fmax(1, fabs(*hi)))) {
        double half = fmax(0.5, 0.05 * fabs(*lo));
        *lo = (isfinite(*lo) ? *lo : 0) - half;
        *hi = (isfinite(*hi) ? *hi : 0) + half;
    }
    double span = *hi - *lo;
    *lo -= pad * span;
    *hi += pad * span;
}

double mpb_svg_x(const mpb_svg_axes *a, double v)
{
    return a->left + (v - a->x0) / (a->x1 - a->x0) * a->w;
}

double mpb_svg_y(const mpb_svg_axes *a, double v)
{
    return a->top + a->h - (v - a->y0) / (a->y1 - a->y0) * a->h;
}

void mpb_svg_axes_draw(FILE *f, const mpb_svg_axes *a, const char *xlabel, const char *ylabel)
{
    fprintf(f,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
            "stroke=\"#444\"/>\n",
            a->left, a->top, a->w, a->h);
    for (int t = 0; t <= 5; t++) {
        double xv = a->x0 + (a->x1 - a->x0) * t / 5, yv = a->y0 + (a->y1 - a->y0) * t / 5;
        double x = mpb_svg_x(a, xv), y = mpb_svg_y(a, yv);
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.3g</text>\n",
                x, a->top, x, a->top + a->h, x, a->top + a->h + 16, xv);
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.4g</text>\n",
                a->left, y, a->left + a->w, y, a->left - 6, y + 4, yv);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", a->left + a->w / 2,
            a->top + a->h + 34);
    mpb_svg_text(f, xlabel);
    fprintf(f,
            "</text>\n<text transform=\"translate(%.1f,%.1f) rotate(-90)\" "
            "text-anchor=\"middle\">",
            a->left - 52, a->top + a->h / 2);
    mpb_svg_text(f, ylabel);
    fprintf(f, "</text>\n");
}

/* The first of the converters on PATH, or NULL. */
static const char *converter(void)
{
    static const char *const names[] = {"rsvg-convert", "convert"};
    const char *path = getenv("PATH");
    for (size_t i = 0; path && i < sizeof names / sizeof names[0]; i++) {
        for (const char *dir = path;; dir += strcspn(dir, ":") + 1) {
            char full[4096];
            int len = (int)strcspn(dir, ":");
            snprintf(full, sizeof full, "%.*s/%s", len, len ? dir : ".", names[i]);
            if (access(full, X_OK) == 0)
                return names[i];
            if (dir[len] == '\0')
                break;
        }
    }
    return NULL;
}

static void write_png(const char *svg_path)
{
    const char *tool = converter();
    if (tool == NULL) {
        printf("plot: no PNG (neither rsvg-convert nor ImageMagick's convert is on PATH)\n");
        return;
    }
    size_t len = strlen(svg_path);
    char *png = malloc(len + 8), *tmp = malloc(len + 16);
    if (png == NULL || tmp == NULL) {
        free(png);
        free(tmp);
        return;
    }
    bool svg_ext = len > 4 && strcmp(svg_path + len - 4, ".svg") == 0;
    snprintf(png, len + 8, "%.*s.png", (int)(svg_ext ? len - 4 : len), svg_path);
    snprintf(tmp, len + 16, "%s.tmp.png", png);
    char *rsvg[] = {"rsvg-convert", "-o", tmp, (char *)svg_path, NULL};
    char *magick[] = {"convert", (char *)svg_path, tmp, NULL};
    char **argv = strcmp(tool, "convert") == 0 ? magick : rsvg;
    pid_t pid;
    int status = 0;
    int rc = posix_spawnp(&pid, tool, NULL, NULL, argv, environ);
    bool ok = rc == 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
              WEXITSTATUS(status) == 0 && access(tmp, F_OK) == 0 && rename(tmp, png) == 0;
    if (ok) {
        printf("plot: %s (by %s)\n", png, tool);
    } else {
        unlink(tmp);
        printf("plot: no PNG: %s failed (%s)\n", tool,
               rc ? strerror(rc) : "see its message above");
    }
    free(png);
    free(tmp);
}

int mpb_plot_write(const char *svg_path, const char *svg, size_t len, mpb_error *err)
{
    int rc = mpb_write_file_atomic(svg_path, svg, len, err);
    if (rc == MPB_OK) {
        printf("plot: %s\n", svg_path);
        write_png(svg_path);
    }
    fflush(stdout);
    return rc;
}
