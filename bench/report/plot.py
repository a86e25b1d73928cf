"""The plot: throughput and loss across a hot-plug, hnagent beside the baseline.

Rows: TCP throughput and retransmissions per 100 ms across one VF deletion and return (the
timeline phase), then the UDP loss profile around a VF deletion and an admin-down (mean over
all switches of the removal phase). Needs matplotlib; render.py skips the plot without it.
"""


def plot_timeline(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    impls = [i for i in ("hnagent", "baseline") if i in results.get("timeline", {}) or i in results.get("removal", {})]
    if not impls:
        return False
    fig, axes = plt.subplots(4, len(impls), figsize=(6 * len(impls), 12), squeeze=False, sharey="row")
    tops = {0: 0.0, 1: 0.0}  # shared y limits of the TCP rows, from the data of both columns
    colors = {"VF delete": "red", "VF admin-down": "red", "VF back": "purple", "relay off": "orange",
              "relay on": "green"}
    for col, impl in enumerate(impls):
        t = results.get("timeline", {}).get(impl)
        if t:
            rows = t["tcp_interval_end_s_gbps_retransmits"]
            for row, (idx, label) in enumerate(((1, "Gbit/s"), (2, "retransmitted segments"))):
                ax = axes[row][col]
                ys = [r[idx] or 0 for r in rows]
                ax.step([r[0] for r in rows], ys, where="pre", color="tab:blue")
                tops[row] = max([tops[row]] + ys)
                for e in t["events"]:
                    ax.axvline(e["t_s"], color=colors.get(e["what"], "gray"), lw=0.8, ls="--",
                               label=e["what"] if row == 0 else None)
                ax.set_ylabel(f"{label} / 100 ms")
                ax.set_xlabel("s since the TCP stream started")
            axes[0][col].set_title(f"{impl}: TCP GUEST->PEER across one hot-plug")
            axes[0][col].legend(loc="lower left", fontsize=7)
            axes[1][col].set_title(f"{impl}: TCP retransmissions (sender)")
        rem = results.get("removal", {}).get(impl)
        for row, kind in ((2, "delete"), (3, "admin-down")):
            ax = axes[row][col]
            prof = (rem or {}).get("loss_profile", {}).get(kind)
            if not prof or not prof["removals"]:
                continue
            xs = [prof["from_ms"] + i * prof["step_ms"] for i in range(len(prof["mean_lost"]))]
            ax.bar(xs, prof["mean_lost"], width=prof["step_ms"], align="edge", color="tab:red")
            p50 = rem["summary"][kind]["reaction_ms"].get("p50")
            if p50 is not None:
                ax.axvline(p50, color="orange", ls="--", lw=1, label=f"relay off, p50 {p50:.2f} ms")
            ax.axvline(0, color="red", ls="--", lw=1, label="VF event")
            ax.legend(loc="upper right", fontsize=7)
            ax.set_title(f"{impl}: UDP loss around a VF {kind} (mean of {prof['removals']})")
            ax.set_xlabel("ms since the VF event, by send time")
            ax.set_ylabel(f"lost packets / {prof['step_ms']} ms")
    for row, top in tops.items():
        for ax in axes[row]:
            ax.set_ylim(0, top * 1.05 or 1)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True
