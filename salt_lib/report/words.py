"""The words a figure, a table or a finding shows, in the chosen language: ``TRANSLATIONS``
(English -> Chinese, the one place to add or change a translation), read through ``tr``; and how
the text names the networks and the losses. Standard library only, so table writing and sentences load
neither matplotlib nor Keras.

``salt_lib.report.style.use_thesis_style(language=...)`` is the one switch; ``set_language`` is
what it calls.
"""

from __future__ import annotations


LANGUAGES = ("en", "zh")


# Every word a figure, a table header or a finding shows, English -> Chinese: the one place to add
# or change a translation. Keys with {fields} are templates (``tr("best (epoch {epoch})", epoch=12)``),
# each translation with the same fields and formats; a finding is one whole template per wording
# (singular or plural, higher or lower), so that each translates as one phrase. Words not listed
# (ids, policy names, numbers) are shown as they are in both languages.
TRANSLATIONS = {"zh": {
    # tiles, legends and groups
    "labelled salt": "标注的盐体", "prediction": "预测", "no salt": "无盐", "partial": "部分含盐", "full": "全为盐",
    "empty": "无盐", "original": "原图", "original (= none)": "原图（= none）", "best": "最好", "worst": "最差",
    "{tile}\nscore {score:.1f}, salt {salt}": "{tile}\n得分 {score:.1f}，盐 {salt}",
    "missed salt": "漏检盐体", "false alarm": "误报", "wrong outline": "轮廓错误", "models disagree": "模型分歧",
    "low score": "低分",
    # coverage, intensity, depth, split
    "coverage class (upper bound, % salt; 0 = empty)": "覆盖率等级（上界，盐体占比 %；0 = 无盐）",
    "tiles (%)": "图块占比 (%)", "tiles": "图块数", "salt coverage of tiles with salt (%)": "含盐图块的盐体覆盖率 (%)",
    "inside salt": "盐体内部", "outside salt (tiles with salt)": "盐体外部（含盐图块）",
    "grey level (bins of 8 levels)": "灰度值（每 8 级一个区间）", "density": "密度",
    "depth z (depths.csv)": "深度 z（depths.csv）", "mean per depth bin": "各深度区间的平均值", "salt coverage (%)": "盐体覆盖率 (%)",
    "train": "训练集", "val": "验证集", "test": "测试集", "{split} ({tiles} tiles)": "{split}（{tiles} 个图块）",
    "tiles of the split (%)": "该划分中的图块占比 (%)",
    # augmentation
    "augmentation policy": "数据增强策略",
    "no TTA,\nthreshold 0.5": "无 TTA，\n阈值 0.5", "flip TTA,\nthreshold 0.5": "翻转 TTA，\n阈值 0.5",
    "flip TTA,\ntuned threshold": "翻转 TTA，\n调优阈值", "+ tuned\nmin size": "+ 调优的\n最小连通域",
    "validation gain\nover the step before": "验证集上相对\n上一步的提升", "score after each step": "每一步之后的得分",
    "gain of each step (mean, 95 % CI)": "每一步的提升（均值，95% 置信区间）", "arm": "实验组", "tgs_score": "tgs_score", "network": "网络",
    "{split}: one dot per seed": "{split}：每个随机种子一个点", "{split}: mean over seeds": "{split}：各种子的均值",
    "test: 95 % interval over tiles": "测试集：图块上的 95% 置信区间", "tgs_score (95 % CI)": "tgs_score（95% 置信区间）",
    # architecture
    "{level}\n{channels} filters, {side}×{side}": "{level}\n{channels} 个滤波器，{side}×{side}", "{level} (bottleneck)": "{level}（瓶颈层）",
    "pool": "池化", "up": "上采样", "input {side}×{side}×{channels}": "输入 {side}×{side}×{channels}",
    "head: sigmoid, {side}×{side}×1": "输出层：sigmoid，{side}×{side}×1", "skip (concatenate)": "跳跃连接（拼接）",
    "residual shortcut (add)": "残差捷径（相加）", "{arch} ({preset} preset): {parameters:,} parameters": "{arch}（{preset} 预设）：{parameters:,} 个参数",
    # training and evaluation
    "BCE": "BCE", "soft IoU": "软 IoU", "soft Dice": "软 Dice", "BCE + Dice": "BCE + Dice", "Lovasz hinge": "Lovasz hinge",
    "symmetric Lovasz hinge": "对称 Lovasz hinge", "Lovasz fine-tuning stage": "Lovasz 微调阶段",
    "best (epoch {epoch})": "最佳（第 {epoch} 轮）", "epoch": "轮次",
    "training loss (of its stage)": "训练损失（所在阶段的损失）", "validation tgs_score": "验证集 tgs_score",
    "{arch} thesis ({millions:.1f} M)": "{arch} 原论文网络（{millions:.1f} M）", "training loss (BCE)": "训练损失（BCE）",
    "circle: kept epoch": "圆圈：保留的轮次",
    "chosen threshold {threshold:.3f} (score {score:.3f} before the minimum size)": "选定阈值 {threshold:.3f}（应用最小连通域前得分 {score:.3f}）",
    "share of empty tiles ({share:.3f}): the score when no pixel is called salt\n(every empty tile scores 1, every salt tile 0)":
        "无盐图块占比（{share:.3f}）：没有像素被判为盐体时的得分\n（每个无盐图块得 1 分，每个含盐图块得 0 分）", "cliff": "陡降",
    "probability threshold": "概率阈值", "salt coverage of the tile (%); n: test tiles in the class": "图块的盐体覆盖率 (%)；n：该等级的测试图块数",
    "mean tgs_score": "平均 tgs_score", "zero: no difference": "零：无差异", "mean difference": "平均差值",
    "95 % interval bounds": "95% 置信区间边界", "{label} (tgs_score)": "{label}（tgs_score）", "bootstrap resamples": "自助重采样次数",
    "95 % bootstrap interval over the class's tiles": "该等级图块上的 95% bootstrap 区间",
    "difference in\ntest TGS score": "测试集\nTGS 得分之差", "difference in\nvalidation TGS score": "验证集\nTGS 得分之差", "each minus {reference}": "各项减去 {reference}", "difference of one seed": "单个种子的差值",
    "paired 95 % interval over tiles (seed means)": "按图块配对的 95% 区间（种子均值）",
    "mean test TGS score": "测试集平均 TGS 得分", "{split}: one mark per seed": "{split}：每个随机种子一个标记",
    "training loss: {loss}": "训练损失：{loss}", "{loss} (left axis)": "{loss}（左轴）", "{loss} (right axis)": "{loss}（右轴）",
    "jump between thresholds {low:.3f} and {high:.3f}: many probabilities lie between them":
        "阈值 {low:.3f} 与 {high:.3f} 之间的跃变：许多概率落在两者之间",
    "jump between thresholds {low:.3f} and {high:.3f}: the background probabilities cluster\n"
    "at sigmoid(-1) = {at:.3f} (Lovasz logits near -1); below it nearly every pixel is salt":
        "阈值 {low:.3f} 与 {high:.3f} 之间的跃变：背景概率集中在\nsigmoid(-1) = {at:.3f}（Lovasz 的 logit 接近 -1）；低于它几乎每个像素都被判为盐体",
    "distance {distance}": "距离 {distance}", "side by side": "左右相邻", "one above the other": "上下相邻",
    # table headers (save_table's .tex and .md, after HEADERS; the .csv keeps the column names code reads)
    "Model": "模型", "Architecture": "网络结构", "Parameters": "参数量", "Preset": "预设", "Overrides": "覆盖参数",
    "Policy": "策略", "What it does": "作用", "Epochs": "轮数", "Best epoch": "最佳轮次", "Split": "划分",
    "Score": "指标", "Value": "数值", "CI low": "置信区间下限", "CI high": "置信区间上限", "IoU": "IoU", "Dice": "Dice",
    "Empty-tile accuracy": "空图块准确率", "Threshold": "阈值", "Min. component (px)": "最小连通域 (像素)",
    "Coverage": "覆盖率", "Coverage class": "覆盖率等级", "Tiles": "图块数", "Members": "成员数", "Share": "占比", "Level": "层级",
    "Layers": "层数", "Side (px)": "边长 (像素)", "Channels": "通道数", "Difference": "差值",
    "Mean difference": "平均差值", "Resamples > 0 (share)": "差值为正的重采样占比", "Training (min)": "训练时间 (分钟)",
    "Train images/s": "训练速度 (图/秒)", "Training (s)": "训练时间 (秒)", "Trained on": "训练硬件",
    "TGS score": "TGS 得分", "Thesis IoU metric": "原论文 IoU 指标", "Val. TGS score": "验证集 TGS 得分",
    "Test TGS score": "测试集 TGS 得分", "Train": "训练集", "Validation": "验证集", "Test": "测试集", "All": "全部",
    "Empty masks": "空掩码", "Full masks": "全盐掩码", "Vertical-strip masks": "竖条掩码", "Aspect": "方面",
    "Source thesis": "原论文", "This workbook": "本工作簿", "Step": "步骤", "Flip TTA": "翻转 TTA",
    "Gain over the step before": "相对上一步的提升", "Total gain": "总提升", "Recorded as": "记录字段",
    "Recorded": "记录值", "Recomputed": "重新计算值",
    "Arm": "实验组", "Seed": "种子", "Seeds": "种子数", "Comparison": "比较", "Verdict": "结论",
    "Optimizer steps": "优化步数", "Test IoU": "测试 IoU", "Test Dice": "测试 Dice",
    "Test empty-tile accuracy": "测试无盐图块准确率", "Test IoU mean": "测试 IoU 均值", "Test IoU sd": "测试 IoU 标准差",
    "Test Dice mean": "测试 Dice 均值", "Test Dice sd": "测试 Dice 标准差",
    "Test empty-tile acc. mean": "测试无盐图块准确率均值", "Test empty-tile acc. sd": "测试无盐图块准确率标准差",
    "Test mean": "测试均值", "Test, seeds and tiles": "测试（跨种子与图块）", "Test sd over seeds": "测试集种子间标准差", "Test min.": "测试最小值", "Test max.": "测试最大值",
    "Val. mean": "验证均值", "Val. sd over seeds": "验证集种子间标准差", "Val. min.": "验证最小值", "Val. max.": "验证最大值",
    "Seeds (right of -)": "种子数（减数）", "Seeds (left of -)": "种子数（被减数）", "Seeds paired": "配对种子数",
    "Mean difference per seed": "各种子差值均值", "Min. difference per seed": "各种子差值最小值",
    "Max. difference per seed": "各种子差值最大值", "Seeds left higher": "被减数更高的种子数", "Per seed": "逐种子",
    "Quantity": "数量项", "Count": "计数", "Section": "剖面", "True pairs": "真实相邻对", "Pairs found": "找到的相邻对",
    "Precision": "精确率", "Recall": "召回率", "Tiles with a training neighbour": "有训练集邻居的图块",
    "Score with a neighbour": "有邻居时的得分", "Tiles without": "无邻居的图块", "Score without": "无邻居时的得分",
    "Optimism of the test mean": "测试均值的乐观偏差", "Seeds, random split": "种子数（随机划分）",
    "Seeds, mosaic split": "种子数（拼图划分）", "Part": "部分", "Score, random-split models": "随机划分模型的得分",
    "Score, mosaic-split models": "拼图划分模型的得分", "Test tiles, random split": "测试图块数（随机划分）",
    "Test tiles, mosaic split": "测试图块数（拼图划分）", "Test score, random split": "测试得分（随机划分）",
    "Test score, mosaic split": "测试得分（拼图划分）",
    "Region": "区域", "Pixels": "像素数", "Mean": "均值", "Std. dev.": "标准差", "Median": "中位数",
    "5th pct.": "第 5 百分位", "95th pct.": "第 95 百分位", "Depths": "深度", "Min. depth": "最小深度",
    "Max. depth": "最大深度", "Empty tiles (share)": "无盐占比", "Full tiles (share)": "全盐占比",
    "Mean coverage": "平均覆盖率", "Mean coverage (salt tiles)": "含盐图块的平均覆盖率",
    "Difference over seeds and tiles": "跨种子与图块的差值", "P-value": "P 值", "P-value (Holm)": "P 值（Holm 校正）",
    "Resampled": "重抽样方式",
    "Choice": "选择项", "Recipe's arm": "训练方案的实验组", "Closest alternative": "最接近的备选", "Outcome": "结果",
    # cells of the tuning table (chapters.comparison.tuning_table)
    "policy": "增强策略", "learning rate": "学习率", "kept": "保留", "kept so far": "暂时保留", "beaten": "被超过", "not run": "未运行",
    "{value} [95 % CI]": "{value} [95% 置信区间]", "(seed ensemble)": "（种子集成）", "{caption} (part {part} of {parts})": "{caption}（第 {part} 部分，共 {parts} 部分）",
    # findings (generated sentences): whole sentences and clauses, their numbers in {fields}
    "; ": "；", ", ": "、", " and ": "和", " or ": "或", "{a} and {b}": "{a} 和 {b}", "{sentence}.": "{sentence}。", "{clause}.": "{clause}。",
    "{low} to {high}": "{low} 至 {high}", "{arm} ({interval})": "{arm}（{interval}）",
    "higher": "更高", "lower": "更低", "not distinguishable": "无法区分",
    "seeds, then mosaics": "先种子、后拼图", "seeds, then tiles": "先种子、后图块", "test tgs_score": "测试集 tgs_score",
    # report.sentences
    "{name}: {number}, higher than {reference}.": "{name}：{number}，高于 {reference}。",
    "{name}: {number}, lower than {reference}.": "{name}：{number}，低于 {reference}。",
    "{name}: {number}, not distinguishable from {reference}.": "{name}：{number}，与 {reference} 无法区分。",
    "{a}'s {score} is higher than {b}'s: {a} - {b} = {difference}.": "{a} 的 {score} 高于 {b}：{a} - {b} = {difference}。",
    "{a}'s {score} is lower than {b}'s: {a} - {b} = {difference}.": "{a} 的 {score} 低于 {b}：{a} - {b} = {difference}。",
    "{a}'s {score} is not distinguishable from {b}'s: {a} - {b} = {difference}.":
        "{a} 的 {score} 与 {b} 无法区分：{a} - {b} = {difference}。",
    # chapter 3: chapters.augmentation
    "Each policy was trained with {seeds} training seed, every run for the same {steps:,} optimizer steps.":
        "每种策略用 {seeds} 个训练种子训练，每次运行的优化步数相同，均为 {steps:,} 步。",
    "Each policy was trained with {seeds} training seeds, every run for the same {steps:,} optimizer steps.":
        "每种策略用 {seeds} 个训练种子训练，每次运行的优化步数相同，均为 {steps:,} 步。",
    "On validation, with {seeds} paired seed per comparison, resampling seeds, then mosaics, and Holm's correction "
    "for the {comparisons} comparisons with {committed}":
        "在验证集上，每组比较配对 {seeds} 个种子，先重采样种子、再重采样拼图，并对与 {committed} 的 {comparisons} 组比较做 Holm 校正",
    "On validation, with {seeds} paired seeds per comparison, resampling seeds, then mosaics, and Holm's correction "
    "for the {comparisons} comparisons with {committed}":
        "在验证集上，每组比较配对 {seeds} 个种子，先重采样种子、再重采样拼图，并对与 {committed} 的 {comparisons} 组比较做 Holm 校正",
    "{basis}, {named} scores higher than {committed}, the policy of the recipe: this study does not support it, and "
    "the models of chapters 4 and 5 would be retrained with {alternative}.":
        "{basis}，{named}的得分高于训练方案的策略 {committed}：本研究不支持该策略，第 4、5 章的模型应改用 {alternative} 重新训练。",
    "{basis}, {named} score higher than {committed}, the policy of the recipe: this study does not support it, and "
    "the models of chapters 4 and 5 would be retrained with {alternative}.":
        "{basis}，{named}的得分高于训练方案的策略 {committed}：本研究不支持该策略，第 4、5 章的模型应改用 {alternative} 重新训练。",
    "{basis}, no policy scores higher than {committed} (the closest, {closest}: {interval}), so the recipe "
    "keeps {committed}: the study does not contradict the policy of chapters 4 and 5.":
        "{basis}，没有策略的得分高于 {committed}（最接近的是 {closest}：{interval}），因此训练方案保留 {committed}："
        "本研究与第 4、5 章所用的策略并不矛盾。",
    "On the same footing, {named} scores lower than {committed}.": "在相同条件下，{named}的得分低于 {committed}。",
    "On the same footing, {named} score lower than {committed}.": "在相同条件下，{named}的得分低于 {committed}。",
    "{arm} - flip {interval} ({seeds} paired seed, Holm p {p_holm:.2f})": "{arm} - flip {interval}（{seeds} 个配对种子，Holm p {p_holm:.2f}）",
    "{arm} - flip {interval} ({seeds} paired seeds, Holm p {p_holm:.2f})": "{arm} - flip {interval}（{seeds} 个配对种子，Holm p {p_holm:.2f}）",
    "{arm} scores higher than flip": "{arm} 的得分高于 flip", "{arm} scores lower than flip": "{arm} 的得分低于 flip",
    "neither way of showing both orientations is distinguishable from a random flip": "两种让每个图块两个方向都出现的方式都与随机翻转无法区分",
    "Both orientations of every tile against a random flip, on validation: {parts}: {outcome}.":
        "在验证集上，让每个图块两个方向都出现，与随机翻转相比：{parts}。结论：{outcome}。",
    # chapters 3 and 6: study
    "{arm}: {seeds} seeds, {score} {interval}": "{arm}：{seeds} 个种子，{score} {interval}",
    "{arm}: {seeds} seed, {score} {interval}": "{arm}：{seeds} 个种子，{score} {interval}",
    "{sentence}, standard deviation over seeds {sd:.3f} (range {low:.3f} to {high:.3f})":
        "{sentence}，种子间标准差 {sd:.3f}（范围 {low:.3f} 至 {high:.3f}）",
    "{sentence}; resampling {resampled} together, the interval is [{low:.3f}, {high:.3f}]":
        "{sentence}；一并重采样（{resampled}）时区间为 [{low:.3f}, {high:.3f}]",
    "{comparison} is higher than 0": "{comparison} 高于 0", "{comparison} is lower than 0": "{comparison} 低于 0",
    "Of the {pairs} pairs, {decided} can be told apart on these tiles: {listed}.":
        "在 {pairs} 组比较中，有 {decided} 组能在这些图块上区分：{listed}。",
    "Of the {pairs} pairs, {decided} can be told apart on these tiles.": "在 {pairs} 组比较中，有 {decided} 组能在这些图块上区分。",
    "The one pair can be told apart on these tiles: {listed}.": "唯一的一组比较能在这些图块上区分：{listed}。",
    "The one pair cannot be told apart on these tiles.": "唯一的一组比较无法在这些图块上区分。",
    "{sentence} With this many comparisons at 95 % each, about one in twenty would be decided by chance alone.":
        "{sentence}比较这么多组、每组取 95% 区间时，约二十分之一的比较会仅凭偶然被判定。",
    "{sentence} With seeds and tiles resampled together and Holm's correction for the {pairs} comparisons, "
    "{held} keep an adjusted p under 0.05: {names}.":
        "{sentence}将种子与图块一并重采样并对 {pairs} 组比较做 Holm 校正后，有 {held} 组的校正 p 值低于 0.05：{names}。",
    "{sentence} With seeds and tiles resampled together and Holm's correction for the {pairs} comparisons, "
    "{held} keep an adjusted p under 0.05.":
        "{sentence}将种子与图块一并重采样并对 {pairs} 组比较做 Holm 校正后，有 {held} 组的校正 p 值低于 0.05。",
    "{sentence} Seed by seed, {b} scored higher in {higher} of {paired} (differences {low:+.3f} to {high:+.3f}).":
        "{sentence}逐个种子看，{b} 在 {paired} 个种子中有 {higher} 个得分更高（差值 {low:+.3f} 至 {high:+.3f}）。",
    "{sentence} Resampling {resampled} together: {interval} (p = {p_value:.3f}, Holm-adjusted p = {p_holm:.3f}).":
        "{sentence}一并重采样（{resampled}）：{interval}（p = {p_value:.3f}，Holm 校正后 p = {p_holm:.3f}）。",
    "{sentence} Resampling {resampled} together: {interval} (p = {p_value:.3f}).":
        "{sentence}一并重采样（{resampled}）：{interval}（p = {p_value:.3f}）。",
    "{name}, {seeds} seed models averaged: {score} {interval}": "{name}，{seeds} 个种子模型取平均：{score} {interval}",
    "{sentence}, {difference:+.3f} against the mean of its seeds ({mean:.3f})":
        "{sentence}，相对其各种子模型的均值（{mean:.3f}）为 {difference:+.3f}",
    # chapter 6: chapters.comparison
    "{comparison} The challenger is ahead in {share:.0%} of the resamples; one training run each.":
        "{comparison}挑战者在 {share:.0%} 的重采样中领先；每个网络各训练一次。",
    "{model} does best on {best} tiles ({best_score:.3f}, {best_tiles} tiles) and "
    "worst on {worst} tiles ({worst_score:.3f}, {worst_tiles} tiles).":
        "{model} 在“{best}”类图块上表现最好（{best_score:.3f}，{best_tiles} 个图块），"
        "在“{worst}”类图块上表现最差（{worst_score:.3f}，{worst_tiles} 个图块）。",
    "{model}: {millions:.1f} M parameters, {epochs} epochs (kept {best_epoch}), test tgs_score {interval}.":
        "{model}：{millions:.1f} M 个参数，训练轮数 {epochs}，保留第 {best_epoch} 轮，测试集 tgs_score {interval}。",
    "{trained} of {budget}": "{trained}/{budget}", "{trained} of {budget} (time cap)": "{trained}/{budget}（受时间上限截断）",
    "{model}: the {tiles_with} test tiles with a training neighbour score {difference} against the "
    "{tiles_without} without one ({verdict}); that makes the random split's test mean optimistic by {optimism}.":
        "{model}：在训练集中有邻居的 {tiles_with} 个测试图块与没有邻居的 {tiles_without} 个图块相比，得分之差为 {difference}（{verdict}）；"
        "这使随机划分的测试均值偏乐观 {optimism}。",
    "the interval lies above 0": "区间位于 0 之上", "the interval lies below 0": "区间位于 0 之下",
    "not distinguishable from 0": "与 0 无法区分",
    "{model} trained on the mosaic split scores {mosaic} on its test tiles ({seeds_mosaic} seeds) against {random} "
    "on the random split ({seeds_random} seeds): random minus mosaic {optimism} ({verdict}).":
        "在拼图划分上训练的 {model} 在其测试图块上得分 {mosaic}（{seeds_mosaic} 个种子），在随机划分上为 {random}"
        "（{seeds_random} 个种子）：随机减拼图为 {optimism}（{verdict}）。",
    "{model} on the {tiles} test tiles that both splits hold out for test: trained on the random split "
    "{score_random:.3f}, on the mosaic split {score_mosaic:.3f}, random minus mosaic {difference} ({verdict})":
        "{model} 在两种划分都留作测试的 {tiles} 个测试图块上：在随机划分上训练得 {score_random:.3f}，"
        "在拼图划分上训练得 {score_mosaic:.3f}，随机减拼图为 {difference}（{verdict}）",
    "{clause}; the two splits' whole test means differ by {gap:+.3f}, inside this interval: these tiles are too few "
    "to tell the models' own difference from which tiles each test set drew.":
        "{clause}；两种划分的整体测试均值相差 {gap:+.3f}，落在该区间之内：这些图块太少，"
        "无法把模型本身的差异与各测试集抽到了哪些图块区分开。",
    "{clause}; the two splits' whole test means differ by {gap:+.3f}, outside this interval: on the same tiles the "
    "models differ by less, so most of the gap between the splits' test means is which tiles each test set drew.":
        "{clause}；两种划分的整体测试均值相差 {gap:+.3f}，落在该区间之外：在相同图块上模型之间的差异更小，"
        "因此两种划分测试均值之差大多来自各测试集抽到了哪些图块。",
    "{model} on the {tiles} validation tiles that both splits hold out for validation: "
    "{score_random:.3f} from the random split's models, {score_mosaic:.3f} from the mosaic split's, "
    "random minus mosaic {difference}.":
        "{model} 在两种划分都留作验证的 {tiles} 个验证图块上：随机划分的模型得 {score_random:.3f}，"
        "拼图划分的模型得 {score_mosaic:.3f}，随机减拼图为 {difference}。",
    "its {choice} was tested on validation, the recipe's {recipe} against {alternatives} ({study}, "
    "{seeds} paired seed)":
        "其{choice}已在验证集上检验，训练方案的 {recipe} 对比 {alternatives}（{study}，{seeds} 个配对种子）",
    "its {choice} was tested on validation, the recipe's {recipe} against {alternatives} ({study}, "
    "{seeds} paired seeds)":
        "其{choice}已在验证集上检验，训练方案的 {recipe} 对比 {alternatives}（{study}，{seeds} 个配对种子）",
    "{tested}: no alternative scores higher (the closest, {closest}: {interval}, Holm p {p_holm:.2f})":
        "{tested}：没有备选的得分更高（最接近的是 {closest}：{interval}，Holm p {p_holm:.2f}）",
    "{tested}: {closest} scores higher ({interval}, Holm p {p_holm:.2f})":
        "{tested}：{closest} 的得分更高（{interval}，Holm p {p_holm:.2f}）",
    "{pending} has not run yet": "{pending} 尚未运行", "{pending} have not run yet": "{pending} 尚未运行",
    "{pending} has not run yet, so {recipe} is kept so far": "{pending} 尚未运行，故暂时保留 {recipe}",
    "{pending} have not run yet, so {recipe} is kept so far": "{pending} 尚未运行，故暂时保留 {recipe}",
    "its {choices} was not tested for it ({commands} would)": "其{choices}尚未针对它检验（{commands} 可以检验）",
    "its {choices} were not tested for it ({commands} would)": "其{choices}尚未针对它检验（{commands} 可以检验）",
    "{model}: {parts}.": "{model}：{parts}。",
    # chapters 4 and 5: chapters.model
    "{main} {loss}": "{main} 轮 {loss}", "{main} {loss} + {lovasz} Lovasz hinge": "{main} 轮 {loss} + {lovasz} 轮 Lovasz hinge",
    "Trained {epochs} epochs ({losses}) in {minutes:.1f} minutes; the kept weights are from epoch {best_epoch}":
        "共训练 {epochs} 轮（{losses}），用时 {minutes:.1f} 分钟；保留的权重来自第 {best_epoch} 轮",
    "Trained {epochs} epochs ({losses}) in {minutes:.1f} minutes (cut short by the time cap); the kept weights are "
    "from epoch {best_epoch}":
        "共训练 {epochs} 轮（{losses}），用时 {minutes:.1f} 分钟（因时间上限提前结束）；保留的权重来自第 {best_epoch} 轮",
    "{sentence}; the validation score of the last five epochs averages {change:.3f} above that of the five before":
        "{sentence}；最后五轮的验证得分平均比此前五轮高 {change:.3f}",
    "{sentence}; the validation score of the last five epochs averages {change:.3f} below that of the five before":
        "{sentence}；最后五轮的验证得分平均比此前五轮低 {change:.3f}",
    "Validation chose the threshold {threshold} and the minimum salt region {min_size} px; there the "
    "model scores {score:.3f} (flip TTA), an optimistic number since the same tiles chose the epoch "
    "and both settings.":
        "验证集选定了阈值 {threshold} 和最小盐体区域 {min_size} 像素；模型在验证集上得分 {score:.3f}（翻转 TTA），"
        "这个数字偏乐观，因为轮次和这两项设置都是在同一批图块上选出的。",
    "On the test tiles, scored once: tgs_score {interval}, {gap:.3f} below the validation score.":
        "在测试图块上（只评分一次）：tgs_score {interval}，比验证集得分低 {gap:.3f}。",
    "On the test tiles, scored once: tgs_score {interval}, {gap:.3f} above the validation score.":
        "在测试图块上（只评分一次）：tgs_score {interval}，比验证集得分高 {gap:.3f}。",
    "On the test tiles, scored once: tgs_score {interval}.": "在测试图块上（只评分一次）：tgs_score {interval}。",
    "The source thesis's stepwise IoU metric gives {value:.3f}, the same: the two differ only for a tile "
    "whose IoU is exactly one of the thresholds 0.50, 0.55, ..., 0.95 (chapter 7).":
        "原论文的分段 IoU 指标给出 {value:.3f}，两者相同：只有当某个图块的 IoU 恰好等于阈值 0.50, 0.55, ..., 0.95 之一时，"
        "两者才会不同（第 7 章）。",
    "The source thesis's stepwise IoU metric gives {value:.3f}, not the same: some tiles have an IoU "
    "exactly on a threshold (chapter 7).":
        "原论文的分段 IoU 指标给出 {value:.3f}，两者不同：有些图块的 IoU 恰好落在某个阈值上（第 7 章）。",
    "Within {tolerance:g} of its best, the validation score holds for thresholds from {low:.2f} to {high:.2f}.":
        "阈值在 {low:.2f} 到 {high:.2f} 之间时，验证得分与其最佳值相差不超过 {tolerance:g}。",
    # chapter 7: chapters.results
    "no TTA, threshold 0.5": "无 TTA，阈值 0.5", "flip TTA, threshold 0.5": "翻转 TTA，阈值 0.5",
    "flip TTA, tuned threshold": "翻转 TTA，调优阈值", "+ tuned min size": "+ 调优的最小连通域", "not available here": "本工作簿中没有",
    "{model}, {step} (over {before}, validation)": "{model}，{step}（相对于{before}，验证集）",
    "{model}, all post-processing (over {first}, validation, tuned there: optimistic)":
        "{model}，全部后处理（相对于{first}，验证集，且在验证集上调优：偏乐观）",
    "{model} on the test tiles (nothing tuned there): tgs_score {tgs_score}, thesis_iou_metric {thesis}.":
        "{model} 在测试图块上（未在其上调优任何设置）：tgs_score {tgs_score}，thesis_iou_metric {thesis}。",
    "{model}'s test thesis_iou_metric here, against the source thesis's reported": "{model} 在本工作簿中的测试 thesis_iou_metric 对比原论文报告的值",
    "The source thesis's reported scores are {reported}: the comparison with it is of "
    "setup (networks, input, split, augmentation, training, metric), not of scores.":
        "原论文报告的得分：{reported}；因此与它的比较是设置上的比较（网络、输入、划分、数据增强、训练、指标），而不是得分上的比较。",
    "; the next best, {runner}, scores {score:.3f}": "；次优的 {runner} 得分 {score:.3f}",
    "; the next best, {runner}, scores {score:.3f}, inside that interval": "；次优的 {runner} 得分 {score:.3f}，落在该区间之内",
    "Submitted: {name} ({members} model), the candidate with the highest validation tgs_score, {interval}{margin}. "
    "The choice is made on the validation tiles alone; the test tiles score it once.":
        "提交：{name}（{members} 个模型），即验证集 tgs_score 最高的候选，{interval}{margin}。该选择只依据验证图块；测试图块只为它评分一次。",
    "Submitted: {name} ({members} models), the candidate with the highest validation tgs_score, {interval}{margin}. "
    "The choice is made on the validation tiles alone; the test tiles score it once.":
        "提交：{name}（{members} 个模型），即验证集 tgs_score 最高的候选，{interval}{margin}。该选择只依据验证图块；测试图块只为它评分一次。",
    "The submission of {submitted} holds {rows:,} rows, one per test tile, cut at the threshold {threshold} and "
    "minimum salt region {min_size} px chosen on validation.":
        "{submitted} 的提交文件共 {rows:,} 行，每个测试图块一行，使用在验证集上选定的阈值 {threshold} 和最小盐体区域 {min_size} 像素。",
    "step {step}": "第 {step} 步", "steps {steps} and {last}": "第 {steps} 和 {last} 步",
    "{model} step {number} ({step}), {gain}, higher than 0": "{model} 第 {number} 步（{step}），{gain}，高于 0",
    "{model} step {number} ({step}), {gain}, lower than 0": "{model} 第 {number} 步（{step}），{gain}，低于 0",
    "None of the {total} step gains on validation has a 95 % interval that excludes zero: "
    "this validation set cannot tell any step from doing nothing.":
        "验证集上 {total} 个步骤的提升中，没有一个的 95% 区间排除零：这个验证集无法把任何一步与不做处理区分开。",
    "{clear} of the {total} step gains on validation has a 95 % interval that excludes zero: {steps}.":
        "验证集上 {total} 个步骤的提升中，有 {clear} 个的 95% 区间排除零：{steps}。",
    "{clear} of the {total} step gains on validation have a 95 % interval that excludes zero: {steps}.":
        "验证集上 {total} 个步骤的提升中，有 {clear} 个的 95% 区间排除零：{steps}。",
    "The other {others} interval contains zero, so this validation set cannot tell those steps "
    "from doing nothing: {steps}.":
        "其余 {others} 个区间包含零，因此这个验证集无法把这些步骤与不做处理区分开：{steps}。",
    "The other {others} intervals contain zero, so this validation set cannot tell those steps "
    "from doing nothing: {steps}.":
        "其余 {others} 个区间包含零，因此这个验证集无法把这些步骤与不做处理区分开：{steps}。",
    # chapters 1 and 2: eda, chapters.data
    "{tiles:,} labelled tiles; {empty:.1%} of them have no salt, and a tile with salt is on average "
    "{coverage:.1%} salt.":
        "共 {tiles:,} 个标注图块；其中 {empty:.1%} 无盐，含盐图块平均有 {coverage:.1%} 的面积是盐体。",
    "{full:,} masks are salt in every pixel.": "{full:,} 个掩码的每个像素都是盐体。",
    "No mask is salt in every pixel, although salt bodies larger than a tile are common in seismic "
    "sections: tiles lying wholly inside one were most likely labelled empty, so an empty mask may "
    "not always mean no salt.":
        "没有一个掩码的每个像素都是盐体，尽管地震剖面中比图块更大的盐体很常见：完全位于盐体内部的图块很可能被标成了无盐，"
        "因此空掩码未必总是意味着没有盐。",
    "{strips:,} masks ({share:.1%}) are vertical strips, the same in every row: a pattern of the "
    "labelling rather than a shape of salt.":
        "{strips:,} 个掩码（{share:.1%}）是竖条，每一行都相同：这是标注留下的模式，而不是盐体的形状。",
    "Depths are known for these tiles.": "这些图块的深度已知。",
    "This copy has no depths.csv, so depth plays no part here.": "这份数据没有 depths.csv，因此深度在这里不起作用。",
    "{low} in every part": "在各部分中均为 {low}", "{low} to {high} across the parts": "在各部分中介于 {low} 与 {high} 之间",
    "{split} {tiles:,} ({share:.1%})": "{split} {tiles:,}（{share:.1%}）", "Parts: {sizes}.": "各部分：{sizes}。",
    "The share of empty tiles is {empty}, and the mean coverage is {coverage}: the stratification kept the "
    "parts alike.":
        "无盐图块的占比{empty}，平均覆盖率{coverage}：分层抽样让各部分保持相似。",
    "Every coverage class that occurs is in every part.": "出现的每个覆盖率等级在每个部分中都有。",
    "{coverage} in {split}": "{split}中的 {coverage}", "Missing from a part: {missing}.": "某些部分缺少以下等级：{missing}。",
    "On {sections} synthetic sections cut into shuffled tiles, the edges recover the true neighbours with a "
    "precision of {precision_low:.2f} to {precision_high:.2f} and a recall of {recall_low:.2f} to {recall_high:.2f}.":
        "在 {sections} 个切成图块并打乱的合成剖面上，按边缘匹配找回真实邻居的精确率为 {precision_low:.2f} 至 {precision_high:.2f}，"
        "召回率为 {recall_low:.2f} 至 {recall_high:.2f}。",
    "Among these {tiles:,} tiles it finds {pairs:,} neighbour pairs, joining {joined:,} tiles into {mosaics:,} "
    "mosaics of two to {largest} tiles; the other tiles have no neighbour here.":
        "在这 {tiles:,} 个图块中，边缘匹配找到 {pairs:,} 对相邻图块，把 {joined:,} 个图块拼成 {mosaics:,} 个拼图，"
        "每个拼图含两个到 {largest} 个图块；其余图块在这里没有邻居。",
    "Under the random split {random:,} test tiles have a neighbour in the training tiles; under the mosaic "
    "split {mosaic:,} do.":
        "在随机划分下，有 {random:,} 个测试图块在训练图块中有邻居；在拼图划分下有 {mosaic:,} 个。",
    "Figure: up to {per_row} tiles of each coverage group, one row each ({groups})":
        "图：每个覆盖率分组最多 {per_row} 个图块，每组一行（{groups}）",
    "{caption}; no tile of this set is in the group {groups}, so it has no row":
        "{caption}；这组数据中没有图块属于{groups}分组，因此该分组没有对应的行",
    "'{group}'": "“{group}”", "{caption}.": "{caption}。",
    # chapter 7: submission.check_submission
    "{name}: header id,rle_mask; {rows} rows, one per test tile, ids unique and the tiles' own; "
    "every rle_mask decodes to a {height}x{width} mask.":
        "{name}：表头为 id,rle_mask；共 {rows} 行，每个测试图块一行，id 唯一且都是这些测试图块的；"
        "每个 rle_mask 都能解码为 {height}x{width} 的掩码。",
}}


# The losses of salt_lib.losses as a legend names them (a training stage is labelled by its loss).
LOSS_NAMES = {"bce": "BCE", "iou": "soft IoU", "dice": "soft Dice", "bce_dice": "BCE + Dice", "lovasz": "Lovasz hinge",
              "lovasz_symmetric": "symmetric Lovasz hinge"}


# The architectures of salt_lib.models as the text names them.
NETWORK_NAMES = {"unet": "U-Net", "resunet": "ResUNet"}


_style = {"language": "en"}  # set by use_thesis_style: the one switch


def tr(text: str, **values) -> str:
    """``text`` in the language ``use_thesis_style`` chose, from ``TRANSLATIONS``, formatted with
    ``values``; text without a translation is returned as it is."""
    template = TRANSLATIONS.get(_style["language"], {}).get(text, text)
    return template.format(**values) if values else template


def network_name(arch: str) -> str:
    """How the text names an architecture of ``salt_lib.models``: 'unet' -> 'U-Net'."""
    return NETWORK_NAMES.get(arch, arch)


# A comparison of two arms, as the study tables name it: 'arm - reference' (arm minus reference).
COMPARED = " - "


def comparison_label(arm: str, reference: str) -> str:
    """The ``comparison`` cell of a study table: ``arm`` minus ``reference``, 'resunet - unet'."""
    return f"{arm}{COMPARED}{reference}"


def compared_arms(label: str) -> tuple[str, str]:
    """The two arms of a ``comparison_label``: 'resunet - unet' -> ('resunet', 'unet')."""
    arm, reference = str(label).split(COMPARED)
    return arm, reference


def readable(cell):
    """A table cell as a reader names it: a network's code name leading the cell ('unet',
    'resunet (seed ensemble)') or each side of a comparison ('resunet - unet') in words
    ('ResUNet (seed ensemble)', 'ResUNet - U-Net'), the rest translated; any other cell translated
    where ``TRANSLATIONS`` has it (a table's words, e.g. 'kept'), else as it is (ids, arm names)."""
    if not isinstance(cell, str):
        return cell
    if COMPARED in cell:  # a comparison, 'resunet - unet', or text with dashes: each part in words
        return COMPARED.join(readable(part) for part in cell.split(COMPARED))
    head, space, rest = cell.partition(" ")
    if head not in NETWORK_NAMES:
        return tr(cell)
    if not rest:
        return network_name(head)
    words = tr(rest)
    return network_name(head) + ("" if words.startswith("（") else space) + words  # no space before a full-width bracket


def set_language(language: str) -> None:
    """Make ``language`` ("en" or "zh") the one ``tr`` translates into (``use_thesis_style`` calls it)."""
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r}: choose one of {', '.join(LANGUAGES)}")
    _style["language"] = language
