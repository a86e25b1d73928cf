"""The timeline plot: throughput and loss across one hot-plug, hnagent beside the baseline.

Needs matplotlib (full runs install it); render.py skips the plot when it is missing.
"""


def plot_timeline(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    impls = [i for i in ("hnagent", "baseline") if i in results.get("timeline", {})]
    if not impls:
        return False
    fig, axes = plt.subplots(3, len(impls), figsize=(6 * len(impls), 9), squeeze=False, sharey="row")
    colors = {"VF delete": "red", "VF admin-down": "red", "relay off": "orange", "relay on": "green"}
    for col, impl in enumerate(impls):
        t = results["timeline"][impl]
        tcp = t["tcp_interval_end_s_mbps"]
        lost_bins = t["udp_lost_bins_s"]
        xs, lost = [x for x, _ in lost_bins], [y for _, y in lost_bins]
        removal = next((e["t_s"] for e in t["events"] if e["what"].startswith("VF ")), None)

        ax = axes[0][col]
        ax.step([x for x, _ in tcp], [y for _, y in tcp], where="post", color="tab:blue")
        ax.set_title(f"{impl}: paced TCP GUEST->PEER (iperf3, 100 ms intervals)")
        ax.set_ylabel("Mbit/s")
        ax.set_ylim(bottom=0)
        ax = axes[1][col]
        ax.vlines(xs, 0, lost, color="tab:red", lw=2)
        if t["udp_span_s"]:
            ax.set_xlim(*t["udp_span_s"])
        ax.set_title(f"{impl}: UDP echo stream, packets lost per 1 ms (by send time)")
        ax.set_ylabel("lost / ms")
        for row in (0, 1):
            for e in t["events"]:
                axes[row][col].axvline(e["t_s"], color=colors.get(e["what"], "gray"), lw=0.8, ls="--")
            axes[row][col].set_xlabel("s since the TCP stream started")
        ax = axes[2][col]
        if removal is not None:
            zoom = [(1000 * (x - removal), y) for x, y in zip(xs, lost) if -5 <= 1000 * (x - removal) <= 15]
            ax.bar([x for x, _ in zoom], [y for _, y in zoom], width=1, align="edge", color="tab:red")
            for e in t["events"]:
                dt = 1000 * (e["t_s"] - removal)
                if -5 <= dt <= 15:
                    ax.axvline(dt, color=colors.get(e["what"], "gray"), lw=1, ls="--", label=e["what"])
            ax.legend(loc="upper right", fontsize=8)
        ax.set_xlim(-5, 15)
        ax.set_title(f"{impl}: zoom on the VF removal")
        ax.set_xlabel("ms since the VF event (nlwatch)")
        ax.set_ylabel("lost / ms")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True
