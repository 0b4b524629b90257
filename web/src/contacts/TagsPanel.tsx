/**
 * The tags panel: every tag with how many contacts have it; rename one across all contacts
 * (merging into a tag of that name) or delete it from all of them, after a confirmation.
 */
import { useMemo, useRef, useState } from 'react'
import { useMutation, useQuery } from 'urql'
import { DeleteTag, RenameTag, TagsQuery } from '../api/documents.ts'
import { apiErrorOf } from '../api/errors.ts'
import { formErrorsOf, type FormErrors } from '../forms/field-errors.tsx'
import { ConfirmDelete, RenameForm } from './InlineForms.tsx'
import { useFocusAfterRemoval } from './row-focus.ts'
import { TAG_WRITE } from './writes.ts'

const contacts = (count: number) => `${count} ${count === 1 ? 'contact' : 'contacts'}`

function TagRow({ tag, onDone, onRemoved }: { tag: { name: string; contactCount: number }; onDone: (message: string) => void; onRemoved: (renamedTo?: string) => void }) {
  const [mode, setMode] = useState<'view' | 'rename' | 'delete'>('view')
  const [, renameTag] = useMutation(RenameTag)
  const [, deleteTag] = useMutation(DeleteTag)
  const renameButton = useRef<HTMLButtonElement>(null)
  const deleteButton = useRef<HTMLButtonElement>(null)
  const back = (to: typeof renameButton) => {
    setMode('view')
    requestAnimationFrame(() => to.current?.focus())
  }
  return (
    <li className="tag-row" data-testid="tag-row" data-key={tag.name}>
      <span className="chip">{tag.name}</span> <span className="muted">{contacts(tag.contactCount)}</span>
      {mode === 'rename' ? (
        <RenameForm
          current={tag.name}
          what="tag"
          onCancel={() => back(renameButton)}
          onRename={async (to): Promise<FormErrors | null> => {
            const result = await renameTag({ from: tag.name, to }, TAG_WRITE)
            if (result.data === undefined) {
              if (!result.error) return { fields: {}, form: 'Could not rename.' }
              // The server names the argument `to`: the form's field is the new name.
              const { fields, form } = formErrorsOf(result.error, ['to', 'name'])
              return { fields: { name: fields.to ?? fields.name ?? '' }, form }
            }
            // The row is keyed by its name: focus goes to the renamed tag's row once the list has it.
            onRemoved(to)
            onDone(`Renamed ${tag.name} to ${to} on ${contacts(result.data.renameTag)}.`)
            return null
          }}
        />
      ) : mode === 'delete' ? (
        <ConfirmDelete
          question={`Remove ${tag.name} from ${contacts(tag.contactCount)}?`}
          confirmLabel={`Delete tag ${tag.name}`}
          onCancel={() => back(deleteButton)}
          onConfirm={async () => {
            const result = await deleteTag({ name: tag.name }, TAG_WRITE)
            if (result.data === undefined) return result.error ? apiErrorOf(result.error).message : 'Could not delete.'
            onRemoved()
            onDone(`Deleted ${tag.name} from ${contacts(result.data.deleteTag)}.`)
            return null
          }}
        />
      ) : (
        <span className="actions">
          <button type="button" ref={renameButton} onClick={() => setMode('rename')}>
            Rename {tag.name}
          </button>
          <button type="button" ref={deleteButton} onClick={() => setMode('delete')}>
            Delete {tag.name}…
          </button>
        </span>
      )}
    </li>
  )
}

/** Under an `ApiProvider`. */
export function TagsPanel() {
  const [{ data, error, fetching }] = useQuery({ query: TagsQuery })
  const tags = useMemo(() => data?.me.tags ?? [], [data])
  const [announcement, setAnnouncement] = useState('')
  const list = useRef<HTMLUListElement>(null)
  const heading = useRef<HTMLHeadingElement>(null)
  const removed = useFocusAfterRemoval(
    useMemo(() => tags.map((tag) => tag.name), [tags]),
    list,
    heading,
  )
  return (
    <section className="panel" aria-labelledby="tags-title">
      <h2 id="tags-title" ref={heading} tabIndex={-1}>
        Tags
      </h2>
      {error && !fetching && (
        <p className="error" role="alert">
          {apiErrorOf(error).message}
        </p>
      )}
      {data && tags.length === 0 && <p className="muted">No tags yet.</p>}
      <ul className="panel-list" ref={list} aria-label="Tags" aria-busy={fetching}>
        {tags.map((tag, index) => (
          <TagRow key={tag.name} tag={tag} onDone={setAnnouncement} onRemoved={(renamedTo) => removed(tag.name, index, renamedTo)} />
        ))}
      </ul>
      <p role="status" className="announce">
        {announcement}
      </p>
    </section>
  )
}
