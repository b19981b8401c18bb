"""Reference computations for Lethe's evaluation-suite parity tests, written the way the public code
computes each metric (numpy / scipy / scikit-learn; torch replaced by numpy with the same dtypes).

usage: eval_ref.py TASK IN.npz  -> JSON on stdout
  single  accuracies, SalUn SVC MIA (SVC_MIA.py), Avg. Gap, ToW, KL/JS, loss MIA, phi
  cka     linear CKA of X vs Y (optionally on row subsets)
  fq      NeurIPS 2023 forget score (google-deepmind/unlearning_evaluation metric.py)
  klom    KLoM per row (data-unlearning-bench src/eval.py)
  tq      Student t quantiles
"""
import json
import sys

import numpy as np
from scipy import special, stats
from scipy.spatial import distance
from sklearn import linear_model, model_selection
from sklearn.svm import SVC

FORGET, RETAIN, TEST = 0, 1, 2


# ---------------------------------------------------------------- SalUn / l1-sparse SVC_MIA.py
def softmax32(logits):
    """F.softmax(output, dim=-1) on float32 logits."""
    z = logits.astype(np.float32)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def entropy(p):
    safe = np.where(p > 0, p, np.float32(1))
    return -np.where(p > 0, p * np.log(safe), np.float32(0)).sum(axis=-1)


def m_entropy(p, labels):
    safe = np.where(p > 0, p, np.float32(1))
    log_prob = np.where(p > 0, np.log(safe), np.log(np.float32(1e-30)))
    reverse_prob = 1 - p
    log_reverse_prob = np.where(p > 0, np.log(safe), np.log(np.float32(1e-30)))  # as in the file
    modified_probs = p.copy()
    modified_probs[:, labels] = reverse_prob[:, labels]
    modified_log_probs = log_reverse_prob.copy()
    modified_log_probs[:, labels] = log_prob[:, labels]
    return -np.sum(modified_probs * modified_log_probs, axis=-1)


def svc_fit_predict(shadow_train, shadow_test, target_test):
    n_tr, n_te = shadow_train.shape[0], shadow_test.shape[0]
    X_shadow = np.concatenate([shadow_train, shadow_test]).reshape(n_tr + n_te, -1)
    Y_shadow = np.concatenate([np.ones(n_tr), np.zeros(n_te)])
    clf = SVC(C=3, gamma="auto", kernel="rbf")
    clf.fit(X_shadow, Y_shadow)
    pred = clf.predict(target_test.reshape(target_test.shape[0], -1))
    return int(np.sum(pred == 0)), float((1 - pred.mean()) * 100)


def svc_mia(logits, labels, split):
    test = np.where(split == TEST)[0]
    retain = np.where(split == RETAIN)[0]
    forget = np.where(split == FORGET)[0]
    shadow_train = retain[: len(test)]  # Subset(retain_dataset, range(test_len))
    groups = {}
    for name, rows in (("st", shadow_train), ("sv", test), ("tt", forget)):
        p = softmax32(logits[rows])
        y = labels[rows]
        groups[name] = {
            "confidence": p[np.arange(len(rows)), y][:, None],
            "entropy": entropy(p),
            "m-entropy": m_entropy(p, y),
        }
    out = {}
    for feat in ("confidence", "entropy", "m-entropy"):
        count, pct = svc_fit_predict(groups["st"][feat], groups["sv"][feat], groups["tt"][feat])
        out[feat] = {"nonMembers": count, "value": pct}
    return out


def accuracy(logits, labels, split, code):
    rows = split == code
    return float(100 * np.mean(np.argmax(logits[rows], axis=1) == labels[rows]))


def compute_logit_scaled_confidence(logits, targets):
    """google-deepmind/unlearning_evaluation metric.py, verbatim arithmetic."""
    count = logits.shape[0]
    logits = logits - np.max(logits, axis=1, keepdims=True)
    probs = np.array(np.exp(logits), dtype=np.float64)
    probs /= np.sum(probs, axis=1, keepdims=True)
    prob_correct = probs[np.arange(count), targets[:count]]
    probs[np.arange(count), targets[:count]] = 0
    prob_wrong = np.sum(probs, axis=1)
    return np.log(prob_correct + 1e-45) - np.log(prob_wrong + 1e-45)


def task_single(d):
    split, labels = d["split"], d["labels"].astype(np.int64)
    lu, lr = d["logits"], d["ref_logits"]
    res = {}
    for who, lg in (("model", lu), ("reference", lr)):
        acc = {s: accuracy(lg, labels, split, c) for s, c in (("forget", FORGET), ("retain", RETAIN), ("test", TEST))}
        res[who] = {"acc": acc, "mia": svc_mia(lg, labels, split)}
    # Avg. Gap over UA, RA, TA, MIA-Efficacy; ToW
    u, r = res["model"], res["reference"]
    gaps = [
        abs((100 - u["acc"]["forget"]) - (100 - r["acc"]["forget"])),
        abs(u["acc"]["retain"] - r["acc"]["retain"]),
        abs(u["acc"]["test"] - r["acc"]["test"]),
        abs(u["mia"]["confidence"]["value"] - r["mia"]["confidence"]["value"]),
    ]
    res["avgGap"] = float(np.mean(gaps))
    res["tow"] = float(np.prod([1 - abs(u["acc"][s] - r["acc"][s]) / 100 for s in ("forget", "retain", "test")]))
    # KL(p_r || p_u), JS (scipy), per split
    pu = special.softmax(lu.astype(np.float64), axis=1)
    pr = special.softmax(lr.astype(np.float64), axis=1)
    kl = stats.entropy(pr, pu, axis=1)
    js = np.array([distance.jensenshannon(pr[i], pu[i]) ** 2 for i in range(len(pr))])
    res["kl"] = {s: float(kl[split == c].mean()) for s, c in (("forget", FORGET), ("retain", RETAIN), ("test", TEST))}
    res["js"] = {s: float(js[split == c].mean()) for s, c in (("forget", FORGET), ("retain", RETAIN), ("test", TEST))}
    # NeurIPS'23 starting-kit loss attack on the rows Lethe sampled (test first, label 0; forget, label 1)
    loss = -special.log_softmax(lu.astype(np.float64), axis=1)[np.arange(len(labels)), labels]
    ft, tt = d["lossmia_forget"].astype(np.int64), d["lossmia_test"].astype(np.int64)
    X = np.concatenate([loss[tt], loss[ft]]).reshape(-1, 1)
    y = np.array([0] * len(tt) + [1] * len(ft))
    scores = model_selection.cross_val_score(
        linear_model.LogisticRegression(), X, y, cv=model_selection.StratifiedKFold(n_splits=10), scoring="accuracy"
    )
    res["lossMia"] = float(scores.mean())
    res["phi"] = compute_logit_scaled_confidence(lu.astype(np.float32).copy(), labels).tolist()
    res["phi64"] = (lu.astype(np.float64)[np.arange(len(labels)), labels] - special.logsumexp(
        np.where(np.eye(lu.shape[1], dtype=bool)[labels], -np.inf, lu.astype(np.float64)), axis=1)).tolist()
    return res


# ---------------------------------------------------------------- CKA
def linear_cka(X, Y):
    X = X - X.mean(axis=0, keepdims=True)
    Y = Y - Y.mean(axis=0, keepdims=True)
    return float(np.linalg.norm(Y.T @ X, "fro") ** 2 / (np.linalg.norm(X.T @ X, "fro") * np.linalg.norm(Y.T @ Y, "fro")))


def task_cka(d):
    X, Y = d["X"].astype(np.float64), d["Y"].astype(np.float64)
    out = {"all": linear_cka(X, Y)}
    if "rows" in d:
        rows = d["rows"].astype(np.int64)
        out["rows"] = linear_cka(X[rows], Y[rows])
    return out


# ---------------------------------------------------------------- NeurIPS 2023 forget score
DELTA = 1e-05
EPSILON_CAP = 50
NUM_THRESHOLDS_PER_UNIT = 100


def _get_double_threshold_rates(pos_confs_, neg_confs_):
    pos_diff = pos_confs_.max() - pos_confs_.min()
    neg_diff = neg_confs_.max() - neg_confs_.min()
    smallest = neg_diff if pos_diff > neg_diff else pos_diff
    if pos_diff >= neg_diff:
        pos_confs_, neg_confs_ = neg_confs_, pos_confs_
    buffer = 2.0
    width = smallest
    min_ = pos_confs_.min() + width - buffer
    max_ = pos_confs_.max() + buffer
    num_right_thresholds = int(np.ceil((max_ - min_) * NUM_THRESHOLDS_PER_UNIT))
    right_thresholds_ = np.linspace(min_, max_, num=num_right_thresholds)
    num_left_thresholds = int(np.ceil(2 * buffer * NUM_THRESHOLDS_PER_UNIT))
    thr_left_ = np.concatenate(
        [np.linspace(tr - width - buffer, tr - width + buffer, num=num_left_thresholds) for tr in right_thresholds_], axis=0
    )
    thr_right_ = np.tile(np.reshape(right_thresholds_, (-1, 1)), (1, num_left_thresholds)).reshape((-1))

    def _is_pp(c):
        return np.logical_and(thr_left_[None, :] <= c[:, None], c[:, None] <= thr_right_[None, :]).astype(np.float32)

    pp_pos, pp_neg = _is_pp(pos_confs_), _is_pp(neg_confs_)
    tpr = np.mean(pp_pos, 0, dtype=np.float32)
    fnr = np.mean(1 - pp_pos, 0, dtype=np.float32)
    fpr = np.mean(pp_neg, 0, dtype=np.float32)
    tnr = np.mean(1 - pp_neg, 0, dtype=np.float32)
    return tpr, fnr, fpr, tnr


def _get_single_threshold_rates(pos_confs_, neg_confs_):
    all_confs = np.concatenate([pos_confs_, neg_confs_])
    min_val, max_val = all_confs.min(), all_confs.max()
    num_thresholds = int(np.ceil((max_val - min_val) * NUM_THRESHOLDS_PER_UNIT))
    thresholds_ = np.linspace(min_val, max_val, num_thresholds)  # torch.linspace in the original
    P = pos_confs_[:, None]
    Q = neg_confs_[:, None]
    T = thresholds_[None, :]
    tpr = np.mean((P >= T).astype(np.float32), 0, dtype=np.float32)
    fpr = np.mean((Q >= T).astype(np.float32), 0, dtype=np.float32)
    tnr = np.mean((Q < T).astype(np.float32), 0, dtype=np.float32)
    fnr = np.mean((P < T).astype(np.float32), 0, dtype=np.float32)
    return tpr, fnr, fpr, tnr


def _get_epsilons(pos_confs, neg_confs, delta):
    epsilons = []
    for i in range(pos_confs.shape[1]):
        pos_confs_ = pos_confs[:, i].reshape(-1)
        neg_confs_ = neg_confs[:, i].reshape(-1)
        pos_diff = np.max(pos_confs_) - np.min(pos_confs_)
        neg_diff = np.max(neg_confs_) - np.min(neg_confs_)
        largest = pos_diff if pos_diff > neg_diff else neg_diff
        smallest = neg_diff if pos_diff > neg_diff else pos_diff
        with np.errstate(invalid="ignore", divide="ignore"):
            peaky = smallest / largest < 0.01
        if peaky:
            epsilons.append(EPSILON_CAP)
            continue
        tpr_d, fnr_d, fpr_d, tnr_d = _get_double_threshold_rates(pos_confs_, neg_confs_)
        tpr_s, fnr_s, fpr_s, tnr_s = _get_single_threshold_rates(pos_confs_, neg_confs_)
        tpr = np.concatenate([tpr_d, tpr_s])
        fnr = np.concatenate([fnr_d, fnr_s])
        fpr = np.concatenate([fpr_d, fpr_s])
        tnr = np.concatenate([tnr_d, tnr_s])
        thr_eps = np.zeros(tpr.shape[0], dtype=np.float32)
        thr_eps = np.where((fpr + fnr == 0) * (tpr + tnr == 2), np.float32(np.inf), thr_eps)
        thr_eps = np.where((thr_eps == 0) * (fpr * fnr == 0), np.float32(np.nan), thr_eps)
        with np.errstate(invalid="ignore", divide="ignore"):
            cand = np.clip(
                np.nanmax(
                    [np.log(1 - delta - fpr) - np.log(fnr), np.log(1 - delta - fnr) - np.log(fpr)],
                    axis=0,
                ),
                0,
                None,
            )
        thr_eps = np.where(thr_eps == 0, cand, thr_eps)
        thr_eps = thr_eps[~np.isnan(thr_eps)]
        assert len(thr_eps) > 0, "all thresholds gave nan epsilon"  # the original asserts `thr_eps`
        epsilons.append(np.nanmax(thr_eps))
    return np.clip(epsilons, 0, EPSILON_CAP)


def compute_forget_score_from_confs(unlearned_confs, retrained_confs):
    _, forget_set_size = retrained_confs.shape
    retrain_means = np.median(retrained_confs, axis=0)
    unlearned_means = np.median(unlearned_confs, axis=0)
    retrain_is_positive = retrain_means > unlearned_means
    pos_confs = np.where(retrain_is_positive, retrained_confs, unlearned_confs)
    neg_confs = np.where(retrain_is_positive, unlearned_confs, retrained_confs)
    eps = _get_epsilons(pos_confs, neg_confs, delta=DELTA)
    num_models = unlearned_confs.shape[0]
    max_epsilon = np.ceil(np.log(num_models - 1))
    start_idx, bucket_size = 0, 0.5
    end_idx = start_idx + bucket_size
    points = 1
    bucket_points = {}
    while end_idx <= max_epsilon:
        bucket_points[start_idx] = points
        points /= 2
        start_idx += bucket_size
        end_idx = start_idx + bucket_size
    forget_score = 0
    for e in eps:
        for start_idx, points in bucket_points.items():
            if e < start_idx + bucket_size:
                forget_score += points
                break
    return forget_score / forget_set_size, eps


def task_fq(d):
    F, eps = compute_forget_score_from_confs(d["u"].astype(np.float64), d["r"].astype(np.float64))
    return {"F": float(F), "eps": [float(e) for e in eps]}


# ---------------------------------------------------------------- KLoM
def compute_binned_KL_div(p_arr, q_arr, bin_count=20, eps=1e-5, min_val=-100, max_val=100):
    p_arr = np.clip(p_arr, min_val, max_val)
    q_arr = np.clip(q_arr, min_val, max_val)
    bins_start = min(p_arr.min(), q_arr.min())
    bins_end = max(p_arr.max(), q_arr.max())
    if bins_start >= bins_end:
        bins_end = bins_start + 1
    bins = np.linspace(bins_start, bins_end, bin_count + 1)
    p_binned_indices = np.digitize(p_arr, bins)
    q_binned_indices = np.digitize(q_arr, bins)
    p_bin_counts = np.array([np.sum(p_binned_indices == i) for i in range(1, bin_count + 1)])
    q_bin_counts = np.array([np.sum(q_binned_indices == i) for i in range(1, bin_count + 1)])
    p_total, q_total = p_bin_counts.sum(), q_bin_counts.sum()
    p_bin_probs = p_bin_counts / p_total if p_total > 0 else np.zeros_like(p_bin_counts, dtype=float)
    q_bin_probs = q_bin_counts / q_total if q_total > 0 else np.zeros_like(q_bin_counts, dtype=float)
    q_bin_probs_safe = np.where(p_bin_probs > 0, np.maximum(q_bin_probs, eps), q_bin_probs)
    return stats.entropy(pk=p_bin_probs, qk=q_bin_probs_safe)


def margins(logits, labels):
    """get_margin: logit_correct − logsumexp(other logits), in float64."""
    lg = logits.astype(np.float64)
    idx = np.arange(lg.shape[0])
    correct = lg[idx, labels]
    other = lg.copy()
    other[idx, labels] = -np.inf
    return correct - special.logsumexp(other, axis=-1)


def task_klom(d):
    labels = d["labels"].astype(np.int64)
    U = np.stack([margins(l, labels) for l in d["u_logits"]])  # [N, n]
    R = np.stack([margins(l, labels) for l in d["r_logits"]])
    res = [float(compute_binned_KL_div(U[:, i], R[:, i])) for i in range(U.shape[1])]
    return {"klom": res}


def task_tq(d):
    return {"t975": [float(stats.t.ppf(0.975, df)) for df in d["df"]]}


if __name__ == "__main__":
    task, path = sys.argv[1], sys.argv[2]
    with np.load(path, allow_pickle=False) as z:
        data = {k: z[k] for k in z.files}
    out = {"single": task_single, "cka": task_cka, "fq": task_fq, "klom": task_klom, "tq": task_tq}[task](data)
    json.dump(out, sys.stdout, allow_nan=True)
