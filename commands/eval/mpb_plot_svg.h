/* Drawing helpers for `mpiblend plot`: a plot area with its axes as SVG
 * text, and the PNG copy made by an SVG converter when one is installed. */
#ifndef MPB_PLOT_SVG_H
#define MPB_PLOT_SVG_H

#include "mpb_error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* A plot area on the page and the data range it shows. */
typedef struct mpb_svg_axes {
    double left, top, w, h;
    double x0, x1, y0, y1;
} mpb_svg_axes;

extern const char *const mpb_svg_palette[8];

void mpb_svg_text(FILE *f, const char *s); /* XML-escaped */
void mpb_svg_begin(FILE *f, double w, double h, const char *title);
void mpb_svg_end(FILE *f);
/* The range of v[0..n) padded by pad (a share of it); a flat range is
 * widened so that it can be drawn. */
void mpb_svg_range(const double *v, size_t n, double pad, double *lo, double *hi);
double mpb_svg_x(const mpb_svg_axes *a, double v);
double mpb_svg_y(const mpb_svg_axes *a, double v);
/* Frame, grid, tick labels and the two axis labels. */
void mpb_svg_axes_draw(FILE *f, const mpb_svg_axes *a, const char *xlabel, const char *ylabel);

/* Writes the SVG text to svg_path atomically, then, when rsvg-convert or
 * ImageMagick's convert is on PATH, the same picture as a PNG next to it
 * (FILE.png for FILE.svg); says on stdout what it wrote or why no PNG. */
int mpb_plot_write(const char *svg_path, const char *svg, size_t len, mpb_error *err);

#endif
