// tests/web/lib/a11y.mjs: small accessibility checks run inside a page.
//
//   await a11yProblems(page) -> [strings]
// - every visible input, select and textarea has a label (a <label>,
//   aria-label or aria-labelledby), every visible button an accessible name;
// - text contrast (WCAG AA): 4.5:1, or 3:1 for large text (>= 24 px, or
//   >= 18.66 px bold), against the first opaque background behind it. Text
//   drawn over a gradient or a video (tile name bars) is skipped: its
//   background is not a single color.

export async function a11yProblems(page) {
	return page.evaluate(() => {
		const out = [];
		const visible = (e) => {
			const r = e.getBoundingClientRect();
			const cs = getComputedStyle(e);
			return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && cs.display !== 'none' && !e.closest('[hidden]');
		};
		const name = (e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : ''}`;
		for (const e of document.querySelectorAll('input, select, textarea')) {
			if (!visible(e) || e.type === 'hidden') continue;
			const labelled = (e.labels && e.labels.length) || e.getAttribute('aria-label') || e.getAttribute('aria-labelledby');
			if (!labelled) out.push(`${name(e)} has no label`);
		}
		for (const e of document.querySelectorAll('button, [role="button"]')) {
			if (!visible(e)) continue;
			const n = (e.getAttribute('aria-label') || e.textContent || '').trim();
			if (!n) out.push(`${name(e)} has no accessible name`);
		}
		const parse = (c) => {
			const m = /rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?\)/.exec(c);
			return m ? { r: +m[1], g: +m[2], b: +m[3], a: m[4] === undefined ? 1 : +m[4] } : null;
		};
		const lum = ({ r, g, b }) => {
			const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
			return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
		};
		const bgOf = (e) => {
			for (let x = e; x; x = x.parentElement) {
				const cs = getComputedStyle(x);
				if (cs.backgroundImage && cs.backgroundImage !== 'none') return null;
				if (x.tagName === 'VIDEO') return null;
				const c = parse(cs.backgroundColor);
				if (c && c.a >= 0.99) return c;
				if (c && c.a > 0.05) return null;   // translucent over something else: not a single color
			}
			return { r: 255, g: 255, b: 255, a: 1 };
		};
		const seen = new Set();
		const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
		for (let n = walker.nextNode(); n; n = walker.nextNode()) {
			const e = n.parentElement;
			if (!n.textContent.trim() || !e || seen.has(e) || !visible(e)) continue;
			seen.add(e);
			if (e.closest('.sr-only, option, .tile-bar, .stats, .avatar')) continue;
			const cs = getComputedStyle(e);
			const fg = parse(cs.color);
			const bg = bgOf(e);
			if (!fg || !bg) continue;
			const opacity = [...(function* up(x) { for (; x; x = x.parentElement) yield +getComputedStyle(x).opacity; })(e)].reduce((a, b) => a * b, 1);
			if (opacity < 0.99) continue;   // dimmed on purpose (a pending message, a disabled control)
			const l1 = lum(fg), l2 = lum(bg);
			const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
			const px = parseFloat(cs.fontSize), bold = Number(cs.fontWeight) >= 700;
			const need = px >= 24 || (bold && px >= 18.66) ? 3 : 4.5;
			if (ratio < need) out.push(`${name(e)} "${n.textContent.trim().slice(0, 30)}": contrast ${ratio.toFixed(2)} < ${need}`);
		}
		return out;
	});
}
