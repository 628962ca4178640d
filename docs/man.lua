-- pandoc filter: docs/*.md (written to be read on a forge) -> a man page (pandoc -t man).
--
--   # oomwarden(1)         the title line: dropped (.TH comes from -M title/section)
--   ## Name                 -> .SH NAME      (level 2 becomes the man page's section, upper case)
--   ### [guard]             -> .SS [guard]
--   | a | b |  (2 columns)  -> .TP a / b     (a man page has tagged paragraphs, not wide tables:
--                                            tbl at MANWIDTH=80 warns "table wider than line width")
--   [text](target)          -> text          (the targets are paths inside the repository)
--   [x](policy.md#anchor)   -> DOCDIR/policy.md  (docs/*.md are installed there; -M docdir=...)
--   /usr/share/doc/oomwarden, /etc/oomwarden in text and code
--                           -> the installed DOCDIR and SYSCONFDIR (-M docdir=, -M sysconfdir=), so
--                              a page installed under another prefix names the real paths
--
-- Anything else a man page cannot show well (a table of more columns, an image) is an error
-- rather than something rendered badly.

local function upper_inlines(inlines)
  return pandoc.walk_inline(pandoc.Span(inlines), {
    Str = function(s) return pandoc.Str(s.text:upper()) end,
  }).content
end

local function Header(h)
  if h.level == 1 then
    return {}
  end
  h.level = h.level - 1
  if h.level == 1 then
    h.content = upper_inlines(h.content)
  end
  return h
end

local docdir
local paths = {} -- { {from, to}, ... }

local function meta_string(v)
  return v and pandoc.utils.stringify(v) or nil
end

local function relocate(text)
  for _, p in ipairs(paths) do
    local i, j = text:find(p[1], 1, true)
    if i then
      text = text:sub(1, i - 1) .. p[2] .. text:sub(j + 1)
    end
  end
  return text
end

local function Link(l)
  local target = l.target:gsub("#.*$", "")
  -- a man page named in the text ("oomwarden.conf(5)") stays as it is
  if pandoc.utils.stringify(l.content):match("^[%w._-]+%(%d%)$") then
    return l.content
  end
  if target:match("^[%w._/-]+%.md$") and not target:match("^%.%./") and docdir then
    return pandoc.Code(docdir .. "/" .. target)
  end
  return l.content
end

local function Image(_)
  error("man.lua: an image cannot go into a man page")
end

-- the blocks of a cell, as a definition's body
local function cell_blocks(cell)
  local blocks = cell.contents
  if #blocks == 1 and blocks[1].t == "Plain" then
    return { pandoc.Para(blocks[1].content) }
  end
  return blocks
end

local function first_inlines(cell)
  local out = {}
  for _, b in ipairs(cell.contents) do
    if b.content then
      for _, i in ipairs(b.content) do
        table.insert(out, i)
      end
    end
  end
  return out
end

local function Table(t)
  if #t.colspecs ~= 2 then
    error("man.lua: a table of " .. #t.colspecs .. " columns; write 2 (term | text) for a man page")
  end
  local items = {}
  for _, body in ipairs(t.bodies) do
    for _, row in ipairs(body.body) do
      local term = first_inlines(row.cells[1])
      if #term == 0 then
        term = { pandoc.Str("(none)") }
      end
      table.insert(items, { term, { cell_blocks(row.cells[2]) } })
    end
  end
  return pandoc.DefinitionList(items)
end

local function Str(s)
  return pandoc.Str(relocate(s.text))
end

local function Code(c)
  c.text = relocate(c.text)
  return c
end

local function CodeBlock(c)
  c.text = relocate(c.text)
  return c
end

return {
  {
    Meta = function(m)
      docdir = meta_string(m.docdir)
      local sysconfdir = meta_string(m.sysconfdir)
      if docdir then
        table.insert(paths, { "/usr/share/doc/oomwarden", docdir })
      end
      if sysconfdir then
        table.insert(paths, { "/etc/oomwarden", sysconfdir .. "/oomwarden" })
      end
    end,
  },
  -- links first: their targets become paths that must not be relocated again
  { Str = Str, Code = Code, CodeBlock = CodeBlock },
  { Header = Header, Link = Link, Image = Image, Table = Table },
}
