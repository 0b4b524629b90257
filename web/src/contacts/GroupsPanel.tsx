/**
 * The groups panel: create a group (with a default cadence), rename one, set or clear its
 * default cadence (it applies to members without a cadence of their own), delete one (after a
 * confirmation; its members leave it). Results are announced; server messages go next to the field.
 */
import { useMemo, useRef, useState, type FormEvent } from 'react'
import { useMutation, useQuery } from 'urql'
import { CreateGroup, DeleteGroup, GroupsQuery, UpdateGroup, type GroupFields } from '../api/documents.ts'
import { apiErrorOf } from '../api/errors.ts'
import { FieldError, formErrorsOf, invalidProps, NO_ERRORS } from '../forms/field-errors.tsx'
import type { ResultOf } from '../graphql.ts'
import { FREQUENCIES, frequencyLabel, type Frequency } from './contact-form-state.ts'
import { ConfirmDelete, RenameForm } from './InlineForms.tsx'
import { useFocusAfterRemoval } from './row-focus.ts'
import { GROUP_WRITE } from './writes.ts'

type Group = ResultOf<typeof GroupFields>

const members = (count: number) => `${count} ${count === 1 ? 'member' : 'members'}`

/**
 * What a group's default cadence does, in words. Only members without a cadence of their own
 * follow it, and the server does not say how many those are: the count is of all members.
 */
export function defaultCadenceText(group: Pick<Group, 'defaultFrequency' | 'memberCount'>): string {
  if (!group.defaultFrequency) return 'No default cadence'
  return `${frequencyLabel[group.defaultFrequency as Frequency]} for members without a cadence of their own · ${members(group.memberCount)}`
}

function FrequencySelect({ id, value, onChange, describedBy }: { id: string; value: string; onChange: (value: Frequency | '') => void; describedBy?: string }) {
  return (
    <select id={id} value={value} onChange={(event) => onChange(event.target.value as Frequency | '')} aria-describedby={describedBy}>
      <option value="">No default</option>
      {FREQUENCIES.map((frequency) => (
        <option key={frequency} value={frequency}>
          {frequencyLabel[frequency]}
        </option>
      ))}
    </select>
  )
}

function CreateGroupForm({ onCreated }: { onCreated: (group: Group) => void }) {
  const [name, setName] = useState('')
  const [frequency, setFrequency] = useState<Frequency | ''>('')
  const [errors, setErrors] = useState(NO_ERRORS)
  const [{ fetching }, createGroup] = useMutation(CreateGroup)
  const input = useRef<HTMLInputElement>(null)
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (fetching) return
    if (!name.trim()) {
      setErrors({ fields: { name: 'Enter a name.' }, form: null })
      return input.current?.focus()
    }
    const result = await createGroup({ name: name.trim(), defaultFrequency: frequency || null }, GROUP_WRITE)
    if (!result.data) {
      if (result.error) setErrors(formErrorsOf(result.error, ['name', 'defaultFrequency']))
      return input.current?.focus()
    }
    setErrors(NO_ERRORS)
    setName('')
    setFrequency('')
    onCreated(result.data.createGroup)
  }
  return (
    <form className="inline-form new-group" onSubmit={submit} aria-label="Create a group" noValidate>
      <label htmlFor="new-group-name">New group</label>
      <input id="new-group-name" ref={input} value={name} onChange={(event) => setName(event.target.value)} {...invalidProps('new-group', 'name', errors)} />
      <FieldError formId="new-group" field="name" errors={errors} />
      <label htmlFor="new-group-frequency">Default cadence</label>
      <FrequencySelect id="new-group-frequency" value={frequency} onChange={setFrequency} />
      {errors.form && (
        <span className="error" role="alert">
          {errors.form}
        </span>
      )}
      <button type="submit" aria-disabled={fetching}>
        Create group
      </button>
    </form>
  )
}

function GroupRow({ group, onDone, onDeleted }: { group: Group; onDone: (message: string) => void; onDeleted: () => void }) {
  const [mode, setMode] = useState<'view' | 'rename' | 'delete'>('view')
  const [error, setError] = useState<string | null>(null)
  const [, updateGroup] = useMutation(UpdateGroup)
  const [, deleteGroup] = useMutation(DeleteGroup)
  const renameButton = useRef<HTMLButtonElement>(null)
  const deleteButton = useRef<HTMLButtonElement>(null)
  const back = (to: typeof renameButton) => {
    setMode('view')
    requestAnimationFrame(() => to.current?.focus())
  }
  const setDefault = async (frequency: Frequency | '') => {
    setError(null)
    const result = await updateGroup({ id: group.id, input: { defaultFrequency: frequency || null } }, GROUP_WRITE)
    if (!result.data) return setError(result.error ? apiErrorOf(result.error).message : 'Could not save.')
    onDone(`${group.name}: ${defaultCadenceText(result.data.updateGroup)}.`)
  }
  const cadenceId = `group-${group.id}-cadence`
  return (
    <li className="group-row" data-testid="group-row">
      <span className="group-name">{group.name}</span> <span className="muted">{members(group.memberCount)}</span>
      <div className="group-cadence">
        <label htmlFor={cadenceId}>Default cadence for {group.name}</label>
        <FrequencySelect id={cadenceId} value={group.defaultFrequency ?? ''} onChange={setDefault} describedBy={`${cadenceId}-text`} />
        <span className="hint" id={`${cadenceId}-text`} data-testid="group-cadence">
          {defaultCadenceText(group)}
        </span>
        {error && (
          <span className="error" role="alert">
            {error}
          </span>
        )}
      </div>
      {mode === 'rename' ? (
        <RenameForm
          current={group.name}
          what="group"
          onCancel={() => back(renameButton)}
          onRename={async (name) => {
            const result = await updateGroup({ id: group.id, input: { name } }, GROUP_WRITE)
            if (!result.data) return result.error ? formErrorsOf(result.error, ['name']) : { fields: {}, form: 'Could not rename.' }
            onDone(`Renamed ${group.name} to ${result.data.updateGroup.name}.`)
            back(renameButton)
            return null
          }}
        />
      ) : mode === 'delete' ? (
        <ConfirmDelete
          question={`Delete ${group.name}? Its ${members(group.memberCount)} leave it.`}
          confirmLabel={`Delete ${group.name}`}
          onCancel={() => back(deleteButton)}
          onConfirm={async () => {
            const result = await deleteGroup({ id: group.id }, GROUP_WRITE)
            if (!result.data) return result.error ? apiErrorOf(result.error).message : 'Could not delete.'
            onDeleted()
            onDone(`Deleted ${group.name}.`)
            return null
          }}
        />
      ) : (
        <span className="actions">
          <button type="button" ref={renameButton} onClick={() => setMode('rename')}>
            Rename {group.name}
          </button>
          <button type="button" ref={deleteButton} onClick={() => setMode('delete')}>
            Delete {group.name}…
          </button>
        </span>
      )}
    </li>
  )
}

/** Under an `ApiProvider`. */
export function GroupsPanel() {
  const [{ data, error, fetching }] = useQuery({ query: GroupsQuery })
  const groups = useMemo(() => data?.me.groups ?? [], [data])
  const [announcement, setAnnouncement] = useState('')
  const list = useRef<HTMLUListElement>(null)
  const heading = useRef<HTMLHeadingElement>(null)
  const removed = useFocusAfterRemoval(
    useMemo(() => groups.map((group) => group.id), [groups]),
    list,
    heading,
  )
  return (
    <section className="panel" aria-labelledby="groups-title">
      <h2 id="groups-title" ref={heading} tabIndex={-1}>
        Groups
      </h2>
      <CreateGroupForm onCreated={(group) => setAnnouncement(`Created ${group.name}.`)} />
      {error && !fetching && (
        <p className="error" role="alert">
          {apiErrorOf(error).message}
        </p>
      )}
      {data && groups.length === 0 && <p className="muted">No groups yet.</p>}
      <ul className="panel-list" ref={list} aria-label="Groups" aria-busy={fetching}>
        {groups.map((group, index) => (
          <GroupRow key={group.id} group={group} onDone={setAnnouncement} onDeleted={() => removed(group.id, index)} />
        ))}
      </ul>
      <p role="status" className="announce">
        {announcement}
      </p>
    </section>
  )
}
