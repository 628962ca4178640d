#include "labplot.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"

/* geometry, in SVG user units */
#define W 900
#define H 560
#define LEFT 78
#define RIGHT 170 /* room for the line labels */
#define MEM_TOP 70
#define MEM_H 250
#define PSI_TOP 370
#define PSI_H 140

#define MIB (1024.0 * 1024.0)

double labplot_nice_step(double span, int ticks)
{
    if (!(span > 0) || ticks < 1)
        return 1;
    double raw = span / ticks;
    double mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return nice * mag;
}

/* XML text: names of cgroups and processes can hold anything. */
static void text_escaped(struct buf *out, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '<':
            buf_puts(out, "&lt;");
            break;
        case '>':
            buf_puts(out, "&gt;");
            break;
        case '&':
            buf_puts(out, "&amp;");
            break;
        case '"':
            buf_puts(out, "&quot;");
            break;
        default:
            /* control characters are not allowed in XML 1.0 */
            buf_putc(out, c < 0x20 ? '?' : (char)c);
        }
    }
}

struct frame {
    double t0, t1; /* time axis */
    double plot_w;
};

static double xpos(const struct frame *f, double t)
{
    return LEFT + (t - f->t0) / (f->t1 - f->t0) * f->plot_w;
}

static void axes(struct buf *out, const struct frame *f, int top, int h, double ymax, double step,
                 const char *unit, const char *label)
{
    /* horizontal grid and y labels */
    for (double y = 0; y <= ymax + step / 1000; y += step) {
        double py = top + h - y / ymax * h;
        buf_printf(out,
                   "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>\n",
                   LEFT, py, LEFT + f->plot_w, py);
        buf_printf(out,
                   "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" class=\"tick\">%g%s</text>\n",
                   LEFT - 6, py + 4, y, unit);
    }
    /* vertical grid and time labels on the lower edge */
    double ts = labplot_nice_step(f->t1 - f->t0, 10);
    for (double t = ceil(f->t0 / ts) * ts; t <= f->t1 + ts / 1000; t += ts) {
        double px = xpos(f, t);
        buf_printf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e4e4e4\"/>\n",
                   px, top, px, top + h);
        buf_printf(out,
                   "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" class=\"tick\">%gs</text>\n",
                   px, top + h + 15, fabs(t) < ts / 1000 ? 0.0 : t);
    }
    buf_printf(out,
               "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"none\" "
               "stroke=\"#888\"/>\n",
               LEFT, top, f->plot_w, h);
    buf_printf(out,
               "<text x=\"%d\" y=\"%d\" transform=\"rotate(-90 %d %d)\" text-anchor=\"middle\" "
               "class=\"axis\">",
               18, top + h / 2, 18, top + h / 2);
    text_escaped(out, label);
    buf_puts(out, "</text>\n");
}

static void hline(struct buf *out, const struct frame *f, double py, double label_py,
                  const char *color, const char *label)
{
    buf_printf(out,
               "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
               "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n",
               LEFT, py, LEFT + f->plot_w, py, color);
    buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\" class=\"label\">",
               LEFT + f->plot_w + 6, label_py + 4, color);
    text_escaped(out, label);
    buf_puts(out, "</text>\n");
}

/* A polyline of samples; value() < 0 leaves a gap. */
static void series(struct buf *out, const struct frame *f, const struct labplot_input *in,
                   double (*value)(const struct lab_sample *), int top, int h, double ymax,
                   const char *color, double width, const char *dash)
{
    bool open = false;
    for (size_t i = 0; i < in->n; i++) {
        double v = value(&in->v[i]);
        if (v < 0) {
            if (open)
                buf_puts(out, "\"/>\n");
            open = false;
            continue;
        }
        if (v > ymax)
            v = ymax;
        if (!open) {
            buf_printf(out,
                       "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\"%s%s%s "
                       "stroke-linejoin=\"round\" points=\"",
                       color, width, dash ? " stroke-dasharray=\"" : "", dash ? dash : "",
                       dash ? "\"" : "");
            open = true;
        } else {
            buf_putc(out, ' ');
        }
        buf_printf(out, "%.1f,%.1f", xpos(f, in->v[i].t), top + h - v / ymax * h);
    }
    if (open)
        buf_puts(out, "\"/>\n");
}

static double mem_mib(const struct lab_sample *s)
{
    return (double)s->current / MIB;
}
static double some10(const struct lab_sample *s)
{
    return s->has_psi ? (double)s->psi.some.avg10 / 100 : -1;
}
static double full10(const struct lab_sample *s)
{
    return s->has_psi ? (double)s->psi.full.avg10 / 100 : -1;
}
static double full_rate(const struct lab_sample *s)
{
    return s->has_psi ? s->full_rate : -1;
}

static void legend(struct buf *out, double x, double y, const char *color, const char *dash,
                   const char *text)
{
    buf_printf(out,
               "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
               "stroke-width=\"2\"%s%s%s/>\n",
               x, y, x + 22, y, color, dash ? " stroke-dasharray=\"" : "", dash ? dash : "",
               dash ? "\"" : "");
    buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\">%s</text>\n", x + 27, y + 4, text);
}

/* the document, its style, the title and subtitle */
static void svg_head(const struct labplot_input *in, struct buf *out)
{
    buf_printf(out,
               "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
               "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, "
               "sans-serif\">\n"
               "<style>.tick{font-size:11px;fill:#444}.axis{font-size:12px;fill:#222}"
               ".label{font-size:11px}.title{font-size:15px;font-weight:bold;fill:#111}"
               ".sub{font-size:12px;fill:#444}</style>\n"
               "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
               W, H, W, H, W, H);
    buf_printf(out, "<text x=\"%d\" y=\"24\" class=\"title\">", LEFT);
    text_escaped(out, in->title);
    buf_puts(out, "</text>\n");
    if (in->subtitle) {
        buf_printf(out, "<text x=\"%d\" y=\"44\" class=\"sub\">", LEFT);
        text_escaped(out, in->subtitle);
        buf_puts(out, "</text>\n");
    }
}

/* memory.current over time, its area, the limit and memory.high */
static void memory_panel(const struct labplot_input *in, const struct frame *f, double mmax,
                         double mstep, struct buf *out)
{
    axes(out, f, MEM_TOP, MEM_H, mmax, mstep, "", "memory.current (MiB)");
    char label[96];
    if (in->n) {
        /* the area under the usage, then its line */
        buf_puts(out, "<polygon fill=\"#3b7dd8\" fill-opacity=\"0.15\" points=\"");
        buf_printf(out, "%.1f,%d", xpos(f, in->v[0].t), MEM_TOP + MEM_H);
        for (size_t i = 0; i < in->n; i++) {
            double v = mem_mib(&in->v[i]);
            buf_printf(out, " %.1f,%.1f", xpos(f, in->v[i].t),
                       MEM_TOP + MEM_H - (v > mmax ? mmax : v) / mmax * MEM_H);
        }
        buf_printf(out, " %.1f,%d\"/>\n", xpos(f, in->v[in->n - 1].t), MEM_TOP + MEM_H);
        series(out, f, in, mem_mib, MEM_TOP, MEM_H, mmax, "#1f5fbf", 2.2, NULL);
    }
    snprintf(label, sizeof(label), "%s %g MiB", in->limit_name ? in->limit_name : "limit",
             (double)in->limit / MIB);
    double ly = MEM_TOP + MEM_H - (double)in->limit / MIB / mmax * MEM_H;
    hline(out, f, ly, ly, "#c62828", label);
    if (in->high) {
        snprintf(label, sizeof(label), "memory.high %g MiB", (double)in->high / MIB);
        double hy = MEM_TOP + MEM_H - (double)in->high / MIB / mmax * MEM_H;
        /* keep the two labels apart when the lines are close */
        hline(out, f, hy, hy - ly < 14 ? ly + 14 : hy, "#ef8f00", label);
    }
}

/* PSI some and full avg10 and the full stall rate, with the 10% line */
static void psi_panel(const struct labplot_input *in, const struct frame *f, double pmax,
                      double pstep, struct buf *out)
{
    axes(out, f, PSI_TOP, PSI_H, pmax, pstep, "%", "memory PSI (%)");
    double y10 = PSI_TOP + PSI_H - 10 / pmax * PSI_H;
    buf_printf(out,
               "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" "
               "stroke-dasharray=\"2 3\"/>\n",
               LEFT, y10, LEFT + f->plot_w, y10);
    buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#777\" class=\"label\">10%%</text>\n",
               LEFT + f->plot_w + 6, y10 + 4);
    bool any_psi = false;
    for (size_t i = 0; i < in->n; i++)
        any_psi |= in->v[i].has_psi;
    if (any_psi) {
        series(out, f, in, full_rate, PSI_TOP, PSI_H, pmax, "#9c27b0", 1.2, "3 2");
        /* some under full, wider, so that it shows where the two are equal (one task) */
        series(out, f, in, some10, PSI_TOP, PSI_H, pmax, "#ef8f00", 4, NULL);
        series(out, f, in, full10, PSI_TOP, PSI_H, pmax, "#c62828", 2, NULL);
        double lx = LEFT + f->plot_w + 10, py = PSI_TOP + 40;
        legend(out, lx, py, "#ef8f00", NULL, "some avg10");
        legend(out, lx, py + 18, "#c62828", NULL, "full avg10");
        legend(out, lx, py + 36, "#9c27b0", "3 2", "full, stall rate");
    } else {
        buf_printf(out,
                   "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" class=\"sub\">no per-cgroup "
                   "memory.pressure on this system</text>\n",
                   LEFT + f->plot_w / 2, PSI_TOP + PSI_H / 2);
    }
}

/* the warning and the kill, across both panels */
static void event_marks(const struct labplot_input *in, const struct frame *f, struct buf *out)
{
    if (in->warn_t >= 0 && in->warn_t <= f->t1) {
        double px = xpos(f, in->warn_t);
        buf_printf(out,
                   "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ef8f00\" "
                   "stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>\n",
                   px, MEM_TOP, px, PSI_TOP + PSI_H);
        buf_printf(out,
                   "<text x=\"%.1f\" y=\"%d\" text-anchor=\"end\" fill=\"#b06000\" "
                   "class=\"label\">PSI full &#8805; 10%% at %.1fs</text>\n",
                   px - 4, PSI_TOP - 6, in->warn_t);
    }
    if (in->kill_t >= 0) {
        double px = xpos(f, in->kill_t);
        buf_printf(out,
                   "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#000\" "
                   "stroke-width=\"2\"/>\n",
                   px, MEM_TOP - 8, px, PSI_TOP + PSI_H);
        buf_printf(out, "<path d=\"M %.1f %d l -6 -10 l 12 0 z\" fill=\"#000\"/>\n", px,
                   MEM_TOP - 8);
        /* inside the memory panel, beside the line */
        bool right = px > LEFT + f->plot_w * 0.6;
        buf_printf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\" class=\"axis\">",
                   right ? px - 6 : px + 6, MEM_TOP + 16, right ? "end" : "start");
        text_escaped(out, in->kill_label ? in->kill_label : "OOM kill");
        buf_printf(out, " at %.2fs</text>\n", in->kill_t);
    }
}

int labplot_svg(const struct labplot_input *in, struct buf *out)
{
    struct frame f = {.t0 = 0, .t1 = 1, .plot_w = W - LEFT - RIGHT};
    for (size_t i = 0; i < in->n; i++) {
        if (in->v[i].t < f.t0)
            f.t0 = in->v[i].t;
        if (in->v[i].t > f.t1)
            f.t1 = in->v[i].t;
    }
    if (in->kill_t > f.t1)
        f.t1 = in->kill_t;

    /* memory axis: to the limit and a bit over, so that the limit line is inside */
    double peak = 0;
    for (size_t i = 0; i < in->n; i++)
        if ((double)in->v[i].current > peak)
            peak = (double)in->v[i].current;
    double top_b = (double)in->limit > peak ? (double)in->limit : peak;
    double mstep = labplot_nice_step(top_b * 1.08 / MIB, 6);
    double mmax = ceil(top_b * 1.08 / MIB / mstep) * mstep;

    /* PSI axis: 0-100% when it got high, else zoomed to what happened (at least 0-20%) */
    double ppeak = 0;
    for (size_t i = 0; i < in->n; i++) {
        double a = some10(&in->v[i]), b = full_rate(&in->v[i]);
        ppeak = a > ppeak ? a : ppeak;
        ppeak = b > ppeak ? b : ppeak;
    }
    double pmax = ppeak > 50 ? 100 : ppeak > 20 ? 50 : 20;
    double pstep = labplot_nice_step(pmax, 4);

    svg_head(in, out);
    memory_panel(in, &f, mmax, mstep, out);
    psi_panel(in, &f, pmax, pstep, out);
    event_marks(in, &f, out);
    buf_printf(out,
               "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" class=\"axis\">seconds since the "
               "eater started growing</text>\n",
               LEFT + f.plot_w / 2, H - 12);
    int r = buf_puts(out, "</svg>\n");
    return r < 0 ? r : 0;
}
