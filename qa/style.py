"""The look of the app's HTML (qa/formatting.py, qa/sources.py), passed to `launch(css=...)`."""

CSS = """
.qa-header h1 {margin: 0; font-size: 1.6em}
.qa-header p {margin: .2em 0 0; color: var(--body-text-color-subdued)}
.qa-status {padding: 8px 12px; border-radius: 8px; font-size: .92em}
.qa-status-busy {background: #eff6ff; color: #1e40af}
.qa-status-ready {background: #f0fdf4; color: #166534}
.qa-status-error {background: #fef2f2; color: #991b1b}
.qa-bar {height: 6px; background: #dbeafe; border-radius: 3px; margin-top: 6px}
.qa-bar > div {height: 100%; background: #2563eb; border-radius: 3px; transition: width .5s}
.qa-reply p {margin: 0 0 .3em}
.qa-answer strong {font-size: 1.08em}
.qa-hint {font-size: .85em; color: #92400e; margin: 4px 0;}
.qa-confidence {font-size: .8em; padding: 1px 8px; border-radius: 999px; margin-left: 6px;
  white-space: nowrap}
.qa-conf-high {background: #dcfce7; color: #166534}
.qa-conf-mid {background: #fef9c3; color: #854d0e}
.qa-conf-low {background: #fee2e2; color: #991b1b}
.qa-evidence {border-left: 3px solid #93c5fd; margin: .3em 0; padding: .1em .7em}
.qa-cite {color: #2563eb; font-weight: 600}
.qa-resolved, .qa-ref, .qa-nearest {font-size: .85em; color: var(--body-text-color-subdued)}
.qa-error {color: #991b1b}
.qa-panel-title {margin: 0 0 4px; font-size: 1.05em}
.qa-sources-head {font-size: .85em; color: var(--body-text-color-subdued); margin: 0 0 8px}
.qa-source {border: 1px solid var(--border-color-primary); border-radius: 10px;
  padding: 10px 12px; margin-bottom: 10px; background: var(--block-background-fill)}
.qa-source-head {display: flex; gap: 10px; align-items: center; font-size: .8em;
  color: var(--body-text-color-subdued)}
.qa-rank {font-weight: 700; color: #2563eb; font-size: 1.1em}
.qa-title {margin: 4px 0 6px; font-size: .98em; font-weight: 600}
.qa-passage-text, .qa-article-text {white-space: pre-line; font-size: .92em; line-height: 1.55}
.qa-article-text {max-height: 480px; overflow-y: auto}
.qa-article-meta {font-size: .8em; color: var(--body-text-color-subdued)}
mark {background: #fde68a; color: inherit; padding: 0 2px; border-radius: 3px}
.qa-ev {font-weight: 600}
.qa-passage {background: #eff6ff}
.qa-empty {color: var(--body-text-color-subdued); font-style: italic}
.qa-notice {padding: 8px 12px; border-radius: 8px; margin: 4px 0}
.qa-notice.qa-ok {background: #f0fdf4; color: #166534}
.qa-notice.qa-error {background: #fef2f2; color: #991b1b}
.qa-library {width: 100%; border-collapse: collapse; font-size: .9em; border: none !important}
.qa-library tr {border: none !important}
.qa-library th, .qa-library td {text-align: left; padding: 6px 8px; border: none !important;
  border-bottom: 1px solid var(--border-color-primary) !important}
.qa-library th {color: var(--body-text-color-subdued); font-weight: 600}
.qa-indexing {font-size: .85em; color: #1e40af; background: #eff6ff; border-radius: 6px;
  padding: 4px 8px; margin: 4px 0 0}
.qa-clarify ul {margin: .2em 0 .3em 1.2em; padding: 0}
.qa-article-head {font-size: .9em; margin: 0 0 6px}
.qa-article-head .qa-title {margin: 0; font-weight: 600}
.qa-article-head .qa-meta {color: var(--body-text-color-subdued); font-size: .9em}
.qa-article-head .qa-meta a {color: inherit}
.qa-group {border: 1px solid var(--border-color-primary); border-radius: 10px;
  padding: 10px 12px; margin-bottom: 10px; background: var(--block-background-fill)}
.qa-group.qa-main {border-color: #93c5fd}
.qa-group .qa-source {border: none; padding: 4px 0 0; margin: 0; background: none}
.qa-group .qa-source + .qa-source {border-top: 1px dashed var(--border-color-primary);
  margin-top: 6px; padding-top: 8px}
.qa-badge {background: #dbeafe; color: #1e40af; border-radius: 999px; padding: 1px 8px;
  font-weight: 600}
.qa-rel {display: inline-flex; align-items: center; gap: 6px; margin-left: auto}
.qa-rel-bar {display: inline-block; width: 56px; height: 6px; background: #e5e7eb;
  border-radius: 3px; overflow: hidden}
.qa-rel-bar > span {display: block; height: 100%; background: #94a3b8}
.qa-rel-high .qa-rel-bar > span {background: #16a34a}
.qa-rel-mid .qa-rel-bar > span {background: #ca8a04}
.qa-more {margin-top: 4px}
.qa-more > summary {cursor: pointer; font-size: .9em; color: var(--body-text-color-subdued);
  margin-bottom: 8px}
.qa-note {font-size: .85em; color: var(--body-text-color-subdued); gap: 2px !important}
.qa-note .prose, .qa-note .html-container {padding: 0 !important; min-height: 0 !important}
.qa-note .qa-over, .qa-note .qa-refused {color: #991b1b}
"""
